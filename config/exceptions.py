"""The base of every domain error; apps subclass it in their own ``exceptions.py``."""


class DomainError(Exception):
    """A rule of the business was broken: answered with ``status`` and a stable ``code``."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
