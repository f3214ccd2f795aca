"""What operations watch: liveness, readiness and Prometheus metrics."""
