"""Errors a user can act on. The CLI prints them as one line, without a traceback."""


class GovlakeError(Exception):
    """An error whose message says what went wrong and what to do about it."""

    retryable = True  # False where trying again cannot help (e.g. rejected credentials)


class LakeError(GovlakeError):
    pass


class CredentialsError(LakeError):
    retryable = False


class WarehouseError(GovlakeError):
    pass


class SourceError(GovlakeError):
    pass


class CreditFeedError(GovlakeError):
    """The credit database refused or failed a push (nothing of it was committed)."""


class GateError(GovlakeError):
    """A day's data does not reconcile or is held by a batch gate: trying again cannot help;
    a re-validation or an operator's recorded override can."""

    retryable = False


class LockTimeout(GovlakeError):
    """Another run held the work's lock for longer than the settings allow."""
