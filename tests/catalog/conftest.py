import pytest


@pytest.fixture
def tree(category_factory):
    """root -> child -> grandchild, and a separate root ``other``."""
    root = category_factory(name="Root")
    child = category_factory(name="Child", parent=root)
    grandchild = category_factory(name="Grandchild", parent=child)
    other = category_factory(name="Other")
    return {"root": root, "child": child, "grandchild": grandchild, "other": other}
