"""The dialer: call lifecycle, calling-rule guards, caller-ID rotation, telephony gateways and the
Socket.IO consoles (/dialer for agents, /wallboard for managers)."""
