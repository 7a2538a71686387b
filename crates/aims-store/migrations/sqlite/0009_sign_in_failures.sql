-- Failed sign-ins are counted per account and source (the client's address) together, so
-- strangers guessing from their own addresses never slow down or lock out the account's owner.
-- The count per account alone, which locked the account for everyone, is gone.
DROP TABLE login_failures;
CREATE TABLE sign_in_failures (
    email TEXT NOT NULL,
    source TEXT NOT NULL,
    failures BIGINT NOT NULL,
    last_failed_at TEXT NOT NULL,
    PRIMARY KEY (email, source)
);
