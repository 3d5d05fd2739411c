"""Personal data: anonymise, export and delete an account's data."""
