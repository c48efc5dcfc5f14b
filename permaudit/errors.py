"""The PermauditError tree and the process exit codes."""

from __future__ import annotations

EXIT_OK = 0
EXIT_POLICY_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3
#: With ``--keep-going``: some input could not be read; the report was still written.
EXIT_INPUT_FAILED = 2


class PermauditError(Exception):
    """An error the user can act on: bad input, bad rules, bad arguments.

    ``str(error)`` is the whole one-line message; the CLI prints it as
    ``permaudit: error: <message>`` and exits with ``exit_code``.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        self.detail = message
        super().__init__(f"{path}: {message}" if path else message)


class UsageError(PermauditError):
    """The command line asks for something that cannot be done (arguments that do not fit)."""


class InputError(PermauditError):
    """An input file cannot be read as an app: missing, not a zip, no manifest, undecodable."""


class ManifestError(InputError):
    """The manifest was found but Android would reject it (or it cannot be decoded)."""


class RulesError(PermauditError):
    """A ruleset, policy or baseline file is invalid. Carries every diagnostic at once."""

    def __init__(self, diagnostics: list[str]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(diagnostics))
