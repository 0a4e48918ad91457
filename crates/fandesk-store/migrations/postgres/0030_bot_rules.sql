-- The bot rules (docs/product.md › Bots): what they remember of a conversation's current
-- opening, decided and written by the group commit with the messages themselves, so two
-- racing automated sends are judged one after the other. A reopen starts them over.
-- `bot_automated_last`: the last public message counted was automated;
-- `bot_fan_waiting`: a fan message arrived since the last automated one;
-- `bot_exchanges`: fan↔bot exchanges completed in this opening;
-- `bot_handed_off`: handed to a human (no automated public message until the next opening).
ALTER TABLE conversations ADD COLUMN bot_automated_last BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE conversations ADD COLUMN bot_fan_waiting BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE conversations ADD COLUMN bot_exchanges BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN bot_handed_off BOOLEAN NOT NULL DEFAULT FALSE;

-- Conversations from before the rules: the "in a row" rule starts from their last public
-- message; exchanges start from zero.
UPDATE conversations SET bot_automated_last = COALESCE((
    SELECT messages.automated FROM messages
    WHERE messages.conversation_id = conversations.id AND messages.public_seq IS NOT NULL
    ORDER BY messages.public_seq DESC LIMIT 1
), FALSE);

-- What a team-only system entry records when it is a named event (`bot_handoff`); NULL
-- for every other message.
ALTER TABLE messages ADD COLUMN event TEXT;
