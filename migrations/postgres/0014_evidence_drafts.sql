-- Evidence responses are built as a draft (issue 18): the files an applicant
-- chose are staged in `uploads` (submitted_at NULL) under one draft per
-- request until the review-and-confirm step sends them. A draft that is left
-- alone expires: its staged files and their stored bytes are removed
-- (casegate::flows::evidence::store::purge_expired_drafts).
CREATE TABLE evidence_drafts (
    request_id BIGINT PRIMARY KEY REFERENCES document_requests(id),
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX evidence_drafts_expiry ON evidence_drafts(expires_at);
