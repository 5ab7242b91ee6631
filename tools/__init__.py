"""Development and operator tools: never deployed."""
