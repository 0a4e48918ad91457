//! What the demo's people say: the team, 50 fans across time zones, the lines fans and
//! agents write, the canned responses, and a small deterministic random source (so the
//! seeded history is the same on every run, and the demo needs no extra crate).

/// `(name, role, email)` of the team. The owner is the bootstrap account.
pub const TEAM: [(&str, &str, &str); 6] = [
    ("Owner", "owner", "owner@demo.test"),
    ("Sam Rivera", "supervisor", "sam@demo.test"),
    ("Lee Park", "escalation_lead", "lee@demo.test"),
    ("Ana Silva", "agent", "ana@demo.test"),
    ("Ben Okafor", "agent", "ben@demo.test"),
    ("Chloé Martin", "agent", "chloe@demo.test"),
];

/// `(display name, IANA time zone)` of the seeded fans.
pub const FANS: [(&str, &str); 50] = [
    ("Mia Johnson", "America/New_York"),
    ("Kenji Watanabe", "Asia/Tokyo"),
    ("Lucía Fernández", "Europe/Madrid"),
    ("Noah Williams", "America/Chicago"),
    ("Amara Okeke", "Africa/Lagos"),
    ("Liam O'Brien", "Europe/Dublin"),
    ("Sofia Rossi", "Europe/Rome"),
    ("Arjun Mehta", "Asia/Kolkata"),
    ("Chloe Dubois", "Europe/Paris"),
    ("Ethan Brown", "America/Los_Angeles"),
    ("Hana Kim", "Asia/Seoul"),
    ("Mateo García", "America/Mexico_City"),
    ("Olivia Smith", "Australia/Sydney"),
    ("Lukas Müller", "Europe/Berlin"),
    ("Isabela Costa", "America/Sao_Paulo"),
    ("Yusuf Demir", "Europe/Istanbul"),
    ("Emma Jansen", "Europe/Amsterdam"),
    ("Wei Chen", "Asia/Shanghai"),
    ("Ava Taylor", "America/Denver"),
    ("Omar Haddad", "Asia/Dubai"),
    ("Freya Nilsson", "Europe/Stockholm"),
    ("Jack Wilson", "Pacific/Auckland"),
    ("Zara Ahmed", "Asia/Karachi"),
    ("Leo Martin", "America/Toronto"),
    ("Aiko Sato", "Asia/Tokyo"),
    ("Gabriel Silva", "America/Sao_Paulo"),
    ("Nina Petrova", "Europe/Warsaw"),
    ("Samuel Mensah", "Africa/Accra"),
    ("Grace Lee", "Asia/Singapore"),
    ("Diego Torres", "America/Bogota"),
    ("Ella Murphy", "Europe/London"),
    ("Ravi Sharma", "Asia/Kolkata"),
    ("Maya Cohen", "Asia/Jerusalem"),
    ("Oscar Lindqvist", "Europe/Helsinki"),
    ("Layla Hassan", "Africa/Cairo"),
    ("Thomas Wright", "America/Phoenix"),
    ("Julia Nowak", "Europe/Warsaw"),
    ("Daniel Kim", "America/Los_Angeles"),
    ("Priya Nair", "Asia/Kolkata"),
    ("Lucas Moreau", "Europe/Paris"),
    ("Chiara Bianchi", "Europe/Rome"),
    ("Kwame Asante", "Africa/Accra"),
    ("Ruby Evans", "Australia/Melbourne"),
    ("Felipe Rojas", "America/Santiago"),
    ("Ingrid Berg", "Europe/Oslo"),
    ("Tariq Aziz", "Asia/Riyadh"),
    ("Sakura Ito", "Asia/Tokyo"),
    ("Ben Carter", "America/New_York"),
    ("Elif Yılmaz", "Europe/Istanbul"),
    ("Marcus Reid", "America/Halifax"),
];

/// A fan's first message. Some name a keyword rule (refund, cancel, complaint) or sound
/// upset, so the seeded workspace has alerts and urgent priorities.
pub const OPENERS: [&str; 20] = [
    "Hi! Is the new merch drop still happening on Friday?",
    "Hey, I loved yesterday's stream 💜 when is the next one?",
    "I was charged twice this month, can I get a refund?",
    "How do I cancel my subscription?",
    "Hello! Can I request a custom shout-out for my sister's birthday?",
    "The video keeps buffering on my phone, is something wrong?",
    "Do you ship the hoodies to Canada?",
    "I want to file a complaint about a rude moderator in the chat.",
    "hi",
    "Is there a discount for annual subscribers?",
    "My payment failed but the money left my account. This is really frustrating!",
    "Can you tell me when the premiere starts in my time zone?",
    "Thank you so much for the last Q&A, it helped me a lot!",
    "I can't log in to the members area anymore.",
    "Will there be a meet & greet on the tour?",
    "I'd like to buy the signed poster, is it still available?",
    "Why was my comment deleted? That's not fair at all.",
    "Hey! Quick question about the VIP tier benefits.",
    "Where can I find the replay of last week's live?",
    "I never received my order and it's been three weeks. Terrible service.",
];

pub const FOLLOW_UPS: [&str; 14] = [
    "Thanks! That helps.",
    "ok",
    "Great, thank you 🙏",
    "Still not working for me, sorry.",
    "Could you check again please?",
    "Perfect, you're the best!",
    "Hmm, I'm not sure I understand.",
    "The email is on my account, same as always.",
    "Any update on this?",
    "Awesome, can't wait!",
    "That's disappointing, honestly.",
    "yes",
    "Got it 👍",
    "Can I also ask about shipping times?",
];

pub const FIRST_REPLIES: [&str; 8] = [
    "Hi! Thanks for writing in — let me check that for you.",
    "Hey there! Great question, give me a second to look it up.",
    "Hi, I'm sorry about the trouble. I'm on it.",
    "Hello! Happy to help with that.",
    "Thanks for reaching out! Let me see what I can do.",
    "Hi! I've got your message and I'm checking with the team now.",
    "Hey, thanks for your patience — looking into it right away.",
    "Hi! Good to hear from you again.",
];

pub const CLOSINGS: [&str; 6] = [
    "All sorted! Anything else I can help with?",
    "Done — you should see it within a few minutes. Have a lovely day!",
    "I've passed this on and you'll get an email confirmation shortly.",
    "You're all set. Thanks for being part of the community 💜",
    "That's fixed now. Let me know if it happens again.",
    "Glad I could help! Enjoy the next stream.",
];

pub const WHISPERS: [&str; 3] = [
    "This fan is a long-time VIP — offer the priority shipping upgrade.",
    "Careful with refund promises here, check the order first.",
    "Nice tone! Maybe mention the premiere on Saturday too.",
];

/// `(shortcut, title, body)`: about a dozen, inside the recommended 10–15.
pub const CANNED: [(&str, &str, &str); 11] = [
    (
        "hi",
        "Greeting",
        "Hi {{ fan.first_name | default: \"there\" }}! Thanks for reaching out 💜\nHow can I help you today?",
    ),
    (
        "refund",
        "Refund request",
        "Hi {{ fan.first_name | default: \"there\" }}, I'm sorry about that.\nRefunds are processed within 5 business days once approved. Could you share the email on your account so I can check the charge?",
    ),
    (
        "cancel",
        "Cancel subscription",
        "Hi {{ fan.first_name | default: \"there\" }}, sorry to see you go!\nYou can cancel any time under Settings → Membership; you keep access until the end of the paid period.",
    ),
    (
        "ship",
        "Shipping times",
        "Hi {{ fan.first_name | default: \"there\" }}!\nMerch ships within 3 business days; delivery takes 5–10 days in Europe and North America, up to 3 weeks elsewhere.",
    ),
    (
        "vip",
        "VIP thank you",
        "Hey {{ fan.first_name | default: \"there\" }}, you're one of our VIPs ✨\nAs a thank-you, early access to the next drop is already on your account.",
    ),
    (
        "login",
        "Login trouble",
        "Hi {{ fan.first_name | default: \"there\" }}, let's get you back in.\nPlease try \"Forgot password\" on the login page; the link is valid for one hour.",
    ),
    (
        "replay",
        "Where is the replay",
        "Hi {{ fan.first_name | default: \"there\" }}!\nReplays are in the Members area under Lives, usually within an hour after the stream ends.",
    ),
    (
        "custom",
        "Custom request",
        "Hi {{ fan.first_name | default: \"there\" }}, love that idea!\nCustom shout-outs take about a week. Tell me the name and the occasion and I'll set it up.",
    ),
    (
        "bug",
        "Technical issue",
        "Hi {{ fan.first_name | default: \"there\" }}, sorry about that!\nCould you tell me your device and browser? Clearing the app cache fixes most playback issues.",
    ),
    (
        "later",
        "Checking with the team",
        "Thanks {{ fan.first_name | default: \"there\" }}!\nI'm checking this with the team and will get back to you within the hour. — {{ agent.name }}",
    ),
    (
        "bye",
        "Thanks and close",
        "Thanks for chatting, {{ fan.first_name | default: \"friend\" }}!\nHave a great day, and see you at the next live 💜",
    ),
];

/// xorshift64*: small, fast, deterministic for a given seed. Not for secrets.
pub struct Random(u64);

impl Random {
    pub fn new(seed: u64) -> Random {
        Random(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `low..high` (`low` when the range is empty).
    pub fn range(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        let span = u64::try_from(high - low).unwrap_or(1);
        low + i64::try_from(self.next() % span).unwrap_or(0)
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        let index = usize::try_from(self.next() % items.len().max(1) as u64).unwrap_or(0);
        items[index]
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}
