"""Loans: lenders and products, matching, applications, contracts, loans and repayments."""
