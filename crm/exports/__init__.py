"""De-identified dataset exports for analysts: produced by a job, downloaded by the same org."""
