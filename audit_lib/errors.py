"""The project's exceptions, in one place. The command line maps them to exit codes."""


class AuditError(Exception):
    """Base class: a user-facing error with a clear message (no traceback is shown)."""

    exit_code = 2


class PackageError(AuditError):
    """A data package cannot be read: missing table or column, unreadable or empty file, lost digits."""


class ParamsError(AuditError):
    """A parameters file or command-line value is wrong."""


class VerificationError(AuditError):
    """A signature, digest or reproduction did not match."""

    exit_code = 3


class KernelError(AuditError):
    """The notebook's kernel did not start, or died (killed for memory, a port clash): worth one more try."""

    exit_code = 4
