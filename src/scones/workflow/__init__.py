"""Orchestration: the States Language interpreter and, later, the local Lambda runtime."""
