"""Use cases: verbs taking a unit of work, calling the domain, committing."""
