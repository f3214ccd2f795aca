"""The service evaluation for the council (SPEC §13): goals, trend, demand, staffing."""
