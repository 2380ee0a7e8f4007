"""schemathesis hooks for ``make fuzz``, loaded through ``hooks`` in the ``schemathesis.toml`` it writes.

A line of ``POST /orders`` names its variant by exactly one of ``product_id``, ``variant_id`` and
``sku``, all three optional in the schema: generated lines nearly always carry none, two or three
of them and are refused with a 400 before any stock is read. Half of the generated bodies are sent
as they are (the refusal stays fuzzed); in the other half every line names one real variant (ids
from ``FUZZ_VARIANT_IDS``, set by ``bench/fuzz.py``) with a small quantity, so placement itself is
reached too.
"""

import os

import schemathesis
from hypothesis import strategies as st

VARIANT_IDS = [int(v) for v in os.environ.get("FUZZ_VARIANT_IDS", "").split(",") if v.strip()]
MAX_QUANTITY = 5


def placeable(body: object, variant_ids: list[int]) -> object:
    """``body`` with its lines (at least one) replaced by ``{variant_id, quantity}`` lines of ``variant_ids``."""
    if not isinstance(body, dict) or not variant_ids:
        return body
    lines = body.get("items") if isinstance(body.get("items"), list) and body["items"] else [{}]
    fixed = []
    for n, line in enumerate(lines):
        quantity = line.get("quantity") if isinstance(line, dict) else None
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            quantity = 1
        fixed.append({"variant_id": variant_ids[n % len(variant_ids)], "quantity": quantity})
    return {**body, "items": fixed}


@schemathesis.hook.apply_to(method="POST", path="/orders/")
def flatmap_body(context, body):
    if not VARIANT_IDS:
        return st.just(body)
    shuffled = st.permutations(VARIANT_IDS).map(lambda ids: placeable(body, list(ids)))
    return st.one_of(st.just(body), shuffled)
