-- The idempotency key of a message is (client_msg_id, author, conversation), and every
-- lookup gives all three. Ordered by client_msg_id first, the index put each new message
-- at a random place: client ids are the clients' own (often random) strings, so once the
-- index outgrew the page cache every insert and every duplicate check read and rewrote a
-- page of its own. Ordered by conversation first (ids that grow with time), a
-- conversation's keys sit together and a batch touches the pages of the conversations it
-- writes to, which stay cached while they are active.
DROP INDEX messages_idempotency;
CREATE UNIQUE INDEX messages_idempotency ON messages (conversation_id, author_id, client_msg_id)
    WHERE client_msg_id IS NOT NULL;
