"""What every error code of the API and the dialer means, in the page's language: the API
answers in English for its clients; a page shows the code's text instead (static/js/i18n.js
reads them from GET /i18n/messages.json). Each code raised anywhere has an entry here
(tests/unit/test_error_texts.py checks the sources and the Chinese catalogue)."""

from __future__ import annotations

from flask_babel import gettext as _


def error_texts() -> dict[str, str]:
    return {**_requests(), **_leads(), **_assignment(), **_dialer(), **_money(), **_admin()}


def _requests() -> dict[str, str]:
    return {
        "unauthorized": _("Log in to continue."),
        "invalid_credentials": _("Wrong username or password."),
        "too_many_attempts": _("Too many failed logins; wait a while and try again."),
        "invalid_token": _("Your login is no longer valid; log in again."),
        "token_expired": _("Your login has expired; log in again."),
        "token_revoked": _("Your login was ended; log in again."),
        "invalid_refresh_token": _("Your login has expired; log in again."),
        "weak_password": _("The password is too weak: use a longer one that is hard to guess."),
        "csrf_failed": _("The page is out of date; reload it and try again."),
        "forbidden": _("You do not have permission for this."),
        "not_found": _("Not found, or not visible to your org."),
        "validation_error": _("Some fields are missing or invalid."),
        "invalid_json": _("The request could not be read; reload the page and try again."),
        "invalid_value": _("A value is out of range or cannot be stored."),
        "method_not_allowed": _("This action is not available here."),
        "request_entity_too_large": _("The upload is too large."),
        "internal_error": _("Something went wrong."),
        "database_unavailable": _("The database is unavailable; try again in a moment."),
        "jobs_unavailable": _("Background jobs are unavailable right now; try again later."),
        "job_failed": _("The job failed."),
        "job_stopped": _("The job was stopped before it finished."),
        "timeout": _("The dialer did not answer, check your connection"),
        "invalid_period": _("The start of the period must be before its end."),
        "period_too_long": _("A report covers at most 366 days."),
        "org_required": _("Choose an org first."),
    }


def _leads() -> dict[str, str]:
    return {
        "duplicate_lead": _("The org already has a lead with this phone number."),
        "invalid_phone": _("The phone number is not valid."),
        "invalid_id_number": _("The ID number is not valid."),
        "invalid_name": _("The name is not valid."),
        "invalid_amount": _("The amount is not valid."),
        "invalid_term": _("The term is not valid."),
        "not_owner": _("Only the lead's owner can do this: claim it first."),
        "already_owned": _("Someone else owns this lead already."),
        "not_owned": _("You do not own this lead."),
        "private_pool_full": _("Your private pool is full: release a lead first."),
        "reclaim_cooldown": _("You released this lead recently and cannot claim it back yet."),
        "daily_claim_cap": _("You have claimed as many leads as allowed today."),
        "daily_open_cap": _("You have opened as many public-pool leads as allowed today."),
        "pool_empty": _("No lead is waiting in the public pool"),
        "duplicate_pool": _("A pool of that name exists already."),
        "invalid_transition": _("The lead cannot move to that stage from where it is now."),
        "reason_required": _("Say why the lead was lost"),
        "invalid_next_followup": _("The next follow-up must be in the future and within a year."),
        "unknown_scheduled_followup": _(
            "A follow-up to replace is no longer open; reload the lead."
        ),
        "missing_file": _("Choose a file first."),
        "empty_file": _("The file is empty."),
        "file_too_large": _("The file is too large."),
        "unsupported_file_type": _("This type of file cannot be used here."),
        "unreadable_file": _("The file cannot be read."),
        "too_many_rows": _("The sheet has too many rows."),
        "missing_columns": _("The sheet lacks a required column (the phone number)."),
        "invalid_mapping": _("The column mapping is not valid."),
        "duplicate_source": _("The org already has a channel of that name."),
        "invalid_source": _("A lead needs a source."),
        "export_not_ready": _("The file is not ready yet."),
    }


def _assignment() -> dict[str, str]:
    return {
        "wrong_org": _("That belongs to another org."),
        "team_required": _("Choose the team whose agents share the leads."),
        "not_an_agent": _("Leads can only be assigned to an active agent."),
        "other_team": _("Team leads assign leads within their own team."),
        "already_assigned": _("An agent owns this lead; by region only pool leads move."),
        "already_in_region": _("The lead is already with the org serving its region."),
        "already_owner": _("The agent already owns this lead."),
        "duplicate_in_target_org": _("The receiving org already has a lead with this number."),
        "no_agents": _("No other active agent can take this lead."),
        "no_phone_city": _("The phone number's region is unknown."),
        "no_region_org": _("No org serves the phone number's region."),
        "region_ambiguous": _("Several orgs serve this region: assign it by hand."),
    }


def _dialer() -> dict[str, str]:
    return {
        "dnc": _("This number is on the do-not-call list"),
        "outside_calling_hours": _("Outside calling hours"),
        "frequency_cap": _("This lead was called too often today"),
        "busy": _("Finish your current call first"),
        "no_caller_id": _("No caller ID is free, ask your manager"),
        "no_caller_id_configured": _("No outbound number is set up for your org, ask your admin"),
        "lead_in_call": _("Another agent is calling this lead"),
        "call_in_progress": _("Hang up before recording the outcome."),
        "already_dispositioned": _("This call already has its outcome."),
        "callback_on_do_not_call": _("A person who asked not to be called gets no callback."),
        "gateway_error": _("The telephony provider refused the call; try again."),
        "duplicate_caller_id": _("This number is already in the org's pool."),
        "invalid_signature": _("The telephony event's signature is wrong."),
        "webhook_disabled": _("The telephony webhook is switched off."),
    }


def _money() -> dict[str, str]:
    return {
        "apr_over_cap": _("The all-in APR is above the legal cap: refused."),
        "amount_out_of_range": _("The amount is outside this product's range."),
        "term_out_of_range": _("The term is outside this product's range."),
        "rate_out_of_range": _("The interest rate is outside this product's range."),
        "invalid_loan_terms": _("These terms do not make a loan."),
        "not_eligible": _("The lead does not meet this product's rules."),
        "product_inactive": _("This product is switched off; choose another."),
        "not_an_hq_product": _("Only a headquarters product can be offered to partners."),
        "unknown_partner_org": _("That partner org does not exist."),
        "application_locked": _("The application cannot be changed in its current status."),
        "application_closed": _("The application is closed."),
        "invalid_application_transition": _(
            "This step is not possible in the current status; reload the page."
        ),
        "no_contract": _("Generate the contract before it is signed."),
        "invalid_contract_template": _("The contract template is not valid."),
        "invalid_disbursed_amount": _("The amount paid out is not valid."),
        "disbursed_in_future": _("The date cannot be in the future."),
        "paid_in_future": _("The date cannot be in the future."),
        "collected_in_future": _("The date cannot be in the future."),
        "collected_before_disbursement": _("The date is before the loan was paid out."),
        "fee_already_collected": _("This fee has been collected already."),
        "overpayment": _("The payment is more than what is still owed on this loan."),
        "loan_cancelled": _("The loan was cancelled."),
        "not_overdue": _("The loan is not overdue."),
        "invalid_promised_date": _("The promised date is not valid."),
        "duplicate_lender": _("A lender of that name exists already."),
        "duplicate_product": _("This lender has a product of that name already."),
        "period_not_over": _("That month has not ended yet."),
        "settlement_running": _("That month is being settled right now."),
        "settlement_locked": _("This settlement can no longer be changed."),
        "period_closed": _("That month is settled and approved already."),
        "plan_exists": _("This org already has a version starting that month."),
        "not_a_month_start": _("A plan version starts on the first day of a month."),
    }


def _admin() -> dict[str, str]:
    return {
        "duplicate_org": _("An org of that name exists already."),
        "cannot_deactivate_self": _("You cannot deactivate yourself."),
        "role_not_allowed_in_org": _("This role does not exist in that kind of org."),
        "invalid_calling_hours": _("Calling hours must start before they end."),
        "invalid_anchor_file": _("The anchor file is not valid."),
    }
