"""The workflow engine: definitions as tables of states and transitions, and performing them."""
