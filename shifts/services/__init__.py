"""Every way a shift, an offer, a booking or a timesheet changes, grouped by module:

- ``posting``: shift_post, shift_update, shift_mark_outcome, shift_mark_critical, shift_widen_radius
- ``offers``: offer_accept, offer_decline, offer_send_direct, offers_expire
- ``lifecycle``: shift_fill, shift_reopen_place, shift_cancel, booking_cancel,
  booking_record_no_show, offers_withdraw, offers_withdraw_for_worker, shifts_escalate,
  shifts_close_past (every transition of a shift and its bookings)
- ``attendance``: booking_confirm, booking_clock_in, booking_clock_out (the worker's side)
- ``timesheets``: booking_confirm_attended, timesheet_approve, timesheet_correct,
  timesheets_auto_approve, rating_create (the provider's side)

Import from the module, e.g. ``from shifts.services.offers import offer_accept``.
"""
