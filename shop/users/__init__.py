"""The users context: accounts, authentication, profiles and address books."""
