"""Names of the policies context's background jobs."""

OPEN_DUE_RENEWAL_CASES = "policies.open_due_renewal_cases"
OPEN_RENEWAL_CASE_FOR_POLICY = "policies.open_renewal_case_for_policy"
