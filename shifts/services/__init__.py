"""Every way a shift, an offer, a booking or a timesheet changes, grouped by module:

- ``posting``: shift_post, shift_update, shift_cancel, shift_mark_outcome
- ``offers``: offer_accept, offer_decline, offer_send_direct, offers_expire
- ``bookings``: booking_cancel, booking_record_no_show
- ``attendance``: booking_confirm, booking_clock_in, booking_clock_out (the worker's side)
- ``timesheets``: booking_confirm_attended, timesheet_approve, timesheet_correct,
  timesheets_auto_approve, rating_create (the provider's side)

Import from the module, e.g. ``from shifts.services.offers import offer_accept``.
"""
