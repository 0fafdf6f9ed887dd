"""Password hashing with argon2id and the shipped list of common passwords."""
