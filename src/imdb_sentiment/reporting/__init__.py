"""Finding runs, statistics, tables and plots; a sweep's manifest and status."""
