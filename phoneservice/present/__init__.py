"""What people and machines read: JSON shapes, Danish wording, report tables and exports."""
