"""Transport-free building blocks shared by every service: errors, config, environment, records."""
