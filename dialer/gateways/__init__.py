"""Telephony gateways: one interface that a CTI/SIP provider adapter implements; the simulated
carrier is the built-in default."""
