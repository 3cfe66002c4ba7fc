"""One module per RQ job; each takes ids, opens its own unit of work and calls a service."""
