"""Understanding: the fast intent matcher and the router that picks skill or LLM."""
