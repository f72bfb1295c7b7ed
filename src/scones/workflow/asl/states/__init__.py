"""One class per state type; ``base.State.run`` holds what all of them share."""
