"""Writers of case-list exports behind `application.policies.case_export.CaseListWriter`: CSV, XLSX, PDF."""
