"""Names of the renewal desk's background jobs (policies context)."""

RECORD_CONTACT = "desk.record_contact"
MARK_PAYMENT_PENDING = "desk.mark_payment_pending"
FLAG_CASE = "desk.flag_case"
NOTIFY_ASSIGNEE = "desk.notify_assignee"
REFRESH_PRIORITIES = "desk.refresh_priorities"
