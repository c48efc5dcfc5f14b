"""The CI gate: policy files, baselines, and the verdict of check."""

#: The policy file `check` and `baseline` read from the working directory when none is given.
DEFAULT_POLICY_NAME = ".permaudit.yml"
