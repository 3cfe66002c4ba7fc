"""The demo world: 90 days of a believable telesales brokerage in every demo org (leads from
each channel with their cost, claims and recycling, calls through the dialer's rules, follow-ups
and the funnel, applications, loans and their repayments, settled commission), built through the
services production runs, and a live floor for the embedded server (`live`)."""
