"""The built-in cue card and post templates, in Japanese and English (event.language).

Each is a `config.templates` template: `${placeholder}`s, and one sentence a line, so that
a line naming an empty value (no sponsors, no survey) is left out. `[cards.<kind>]` and
`[posts]` in the event file replace them; a slot's own `intro`/`outro`/`post` replaces both.
"""

from __future__ import annotations

# CARDS[language][kind] = (intro, outro)
CARDS: dict[str, dict[str, tuple[str, str]]] = {
    "ja": {
        "standby": (
            "まもなく「${event}」を開始します。\n開始まで今しばらくお待ちください。",
            "",
        ),
        "opening": (
            "皆さん、こんばんは！「${event}」にご参加いただきありがとうございます。\n"
            "ハッシュタグは ${hashtag} です。感想や質問をぜひ投稿してください。\n"
            "本日は${sponsors}のご支援でお届けします。ありがとうございます。\n"
            "それでは早速始めていきましょう！",
            "",
        ),
        "talk": (
            "続いては、${who}による「${title}」です。\n"
            "X のアカウントは ${handle} です。\n"
            "${speaker}、よろしくお願いします！",
            "${speaker}、ありがとうございました！",
        ),
        "lt": (
            "続いての LT は、${who}による「${title}」です。持ち時間は${minutes}分です。\n"
            "${speaker}、お願いします！",
            "${speaker}、ありがとうございました！",
        ),
        "qa": (
            "それでは質疑応答に移ります。\n"
            "ご質問はチャットか、ハッシュタグ ${hashtag} でお寄せください。",
            "${speaker}、ありがとうございました！皆さん、改めて拍手をお願いします。",
        ),
        "break": (
            "ここで${minutes}分間の休憩に入ります。\n"
            "再開は${resume}の予定です。\n"
            "休憩明けは、${next_who}による「${next_title}」です。",
            "お待たせしました。再開します！",
        ),
        "closing": (
            "以上で本日のプログラムはすべて終了です。\n"
            "登壇してくださった${speakers}、ありがとうございました！\n"
            "${sponsors}、ご支援ありがとうございました。\n"
            "アンケートへのご協力をお願いします。URL をチャットに貼ります：${survey_url}\n"
            "次回は${next_event}です。ぜひまたご参加ください。\n"
            "本日の感想はハッシュタグ ${hashtag} でぜひ投稿してください。\n"
            "ご参加いただき、ありがとうございました！",
            "",
        ),
    },
    "en": {
        "standby": ("${event} starts in a moment.\nPlease stay tuned.", ""),
        "opening": (
            "Hello everyone, and welcome to ${event}!\n"
            "Our hashtag is ${hashtag}: please post your thoughts and questions.\n"
            "Today's event is supported by ${sponsors}. Thank you!\n"
            "Let's get started!",
            "",
        ),
        "talk": (
            'Next up: ${who} with "${title}".\n'
            "You can find ${name} at ${handle}.\n"
            "Over to you, ${speaker}!",
            "Thank you, ${speaker}!",
        ),
        "lt": (
            'Our next lightning talk: ${who} with "${title}", ${minutes} minutes.\n'
            "Go ahead, ${speaker}!",
            "Thank you, ${speaker}!",
        ),
        "qa": (
            "Let's move on to questions.\nPlease ask in the chat or with ${hashtag}.",
            "Thank you again, ${speaker}!",
        ),
        "break": (
            "Let's take a ${minutes}-minute break.\n"
            "We'll be back at ${resume}.\n"
            'After the break: ${next_who} with "${next_title}".',
            "Welcome back! Let's continue.",
        ),
        "closing": (
            "That's all for today's programme.\n"
            "A big thank-you to our speakers: ${speakers}!\n"
            "Thank you to ${sponsors} for supporting us.\n"
            "Please fill in our survey, the link is in the chat: ${survey_url}\n"
            "Our next event: ${next_event}. We hope to see you there!\n"
            "Share your thoughts with ${hashtag}.\n"
            "Thank you all for joining!",
            "",
        ),
    },
}

# POSTS[language][kind]: the draft posted as a talk or a lightning talk starts.
POSTS: dict[str, dict[str, str]] = {
    "ja": {
        "talk": "${speaker_handle}による「${title}」が始まりました！\n${hashtag}\n${url}",
        "lt": "LT：${speaker_handle}による「${title}」が始まりました！\n${hashtag}\n${url}",
    },
    "en": {
        "talk": 'Now on: "${title}" by ${speaker_handle}\n${hashtag}\n${url}',
        "lt": 'Lightning talk: "${title}" by ${speaker_handle}\n${hashtag}\n${url}',
    },
}

# Labels of the Markdown that `showcaller cards` prints, by event.language.
LABELS: dict[str, dict[str, str]] = {
    "ja": {
        "cards": "MC カード",
        "planned": "時刻は予定です（当日は遅れに合わせて画面のカードが変わります）",
        "intro": "始めに",
        "outro": "終わりに",
        "post": "投稿案",
        "nothing": "（読み上げる文はありません）",
    },
    "en": {
        "cards": "MC cue cards",
        "planned": "planned times (on the day, the cards on screen follow the delays)",
        "intro": "at the start",
        "outro": "at the end",
        "post": "post draft",
        "nothing": "(nothing to say)",
    },
}
