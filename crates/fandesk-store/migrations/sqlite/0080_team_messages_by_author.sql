-- messages_by_author serves one query: the review of team members' messages filtered by
-- author (`author_kind IN ('member', 'bot')`). Fans' messages never use it, yet every fan
-- message added an entry, and under load each batch touched one index page per fan who
-- wrote in it. The index now holds team members' and bots' messages only.
DROP INDEX messages_by_author;
CREATE INDEX messages_by_author ON messages (author_id, created_at)
    WHERE author_kind IN ('member', 'bot');
