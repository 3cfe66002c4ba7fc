"""Lead-quality scoring: per-org weights, pure rules, the bulk service and the org re-score."""
