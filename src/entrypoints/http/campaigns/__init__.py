"""HTTP controllers of the campaigns context: campaigns, segments and the public tracking routes."""
