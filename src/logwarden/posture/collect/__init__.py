"""Live collection: one small adapter per Azure service, each reading with the user's
credentials and read-only calls, each answer recorded as it came with its provenance."""
