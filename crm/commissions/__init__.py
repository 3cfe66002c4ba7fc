"""Commission settlement: plans, monthly settlement into statements, clawbacks, approval."""
