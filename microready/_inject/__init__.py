"""What a handler receives: its signature read once into a plan, and the plan
solved per request into arguments (parameters, bodies, dependencies)."""
