"""What a check says to the host, in the event's language (ja first, en)."""

from __future__ import annotations

from typing import Literal

Language = Literal["ja", "en"]

_HINTS: dict[str, dict[Language, str]] = {
    "no_input": {
        "en": "OBS has no input {input!r}: create it, or fix {field} in the event file",
        "ja": "OBS に入力「{input}」がありません — OBS で作るか、イベントファイルの {field} を直してください",
    },
    "black": {
        "en": "the picture is black — ask {who} to start the camera or share the screen",
        "ja": "映像が真っ黒です — {who}にカメラの開始か画面共有をお願いしてください",
    },
    "frozen": {
        "en": "the picture has not changed for {seconds} s — a frozen call, or a still slide "
        "with no camera: ask {who} to move, or to rejoin the call",
        "ja": "映像が {seconds} 秒間変わっていません — 通話が固まっているか、カメラなしの静止スライドです。"
        "{who}に動いてもらうか、入り直してもらってください",
    },
    "muted": {
        "en": "muted in OBS — unmute {input!r} in OBS's audio mixer",
        "ja": "OBS でミュートになっています — 音声ミキサーで「{input}」のミュートを解除してください",
    },
    "fader_down": {
        "en": "the fader of {input!r} is all the way down in OBS — raise it in the audio mixer",
        "ja": "OBS の音声ミキサーで「{input}」の音量が最小です — フェーダーを上げてください",
    },
    "silent": {
        "en": "no sound in {seconds} s — muted in the call? ask {who} to say something",
        "ja": "{seconds} 秒間音がありません — 通話でミュートになっていませんか？{who}に話してもらってください",
    },
    "clipping": {
        "en": "the sound is clipping — ask {who} to turn their microphone down",
        "ja": "音が割れています — {who}にマイクの音量を下げてもらってください",
    },
    "off_air_audio": {
        "en": "cannot hear {who}'s microphone until it is on air — OBS measures sound only on "
        "program; checked when the slot goes on air (before the stream: put its scene on "
        "program and check again)",
        "ja": "{who}のマイクは本番に出るまで聞けません — OBS はプログラムに出ている音しか測れません。"
        "出番で確認します（配信前なら、そのシーンをプログラムに出して再チェック）",
    },
    "off_air_video": {
        "en": "cannot see {who}'s picture until it is on air — a media source plays only on "
        "program; checked when the slot goes on air",
        "ja": "{who}の映像は本番に出るまで見られません — メディアソースはプログラムに出ている間だけ"
        "再生されます。出番で確認します",
    },
    "no_meters": {
        "en": "OBS sent no sound levels for {who} — is their audio_input an input with sound? "
        "look at it in OBS's audio mixer",
        "ja": "OBS から{who}の音量が届きません — audio_input は音のある入力ですか？"
        "OBS の音声ミキサーで確かめてください",
    },
    "slides_down": {
        "en": "the slide link does not answer ({status}) — not published yet? ask {who} for it",
        "ja": "スライドのリンクが開けません（{status}）— まだ公開前かもしれません。{who}に確認してください",
    },
    "no_inputs": {
        "en": "no video_input or audio_input for this speaker in the event file",
        "ja": "イベントファイルにこの登壇者の video_input / audio_input がありません",
    },
    "not_found": {
        "en": "OBS could not take a picture of {input!r}: {error}",
        "ja": "OBS で「{input}」の映像を取れませんでした: {error}",
    },
    "on_air_black": {
        "en": "ON AIR: {who}'s picture went black ({input!r})",
        "ja": "配信中: {who}の映像が真っ黒になりました（{input}）",
    },
    "on_air_frozen": {
        "en": "ON AIR: {who}'s picture is frozen ({input!r}, unchanged for {seconds} s)",
        "ja": "配信中: {who}の映像が止まっています（{input}、{seconds} 秒間変化なし）",
    },
    "on_air_silent": {
        "en": "ON AIR: no sound from {who} for {seconds} s ({input!r}) — a dead microphone?",
        "ja": "配信中: {who}の音が {seconds} 秒間ありません（{input}）— マイクが止まっていませんか？",
    },
    "on_air_back": {
        "en": "{who}: {what} is back",
        "ja": "{who}: {what}が戻りました",
    },
}

_WHO: dict[Language, str] = {"en": "{name}", "ja": "{name}さん"}
_WHAT: dict[str, dict[Language, str]] = {
    "picture": {"en": "the picture", "ja": "映像"},
    "sound": {"en": "the sound", "ja": "音"},
}


def who(name: str, language: Language) -> str:
    """How a hint names a speaker ("佐藤 花子さん", "Yui Suzuki")."""
    return _WHO[language].format(name=name)


def hint(key: str, language: Language, **values: object) -> str:
    """The hint `key` in `language`, filled in."""
    return _HINTS[key][language].format(**values)


def what(part: str, language: Language) -> str:
    """ "the picture" / "the sound" in `language`."""
    return _WHAT[part][language]


__all__ = ["Language", "hint", "what", "who"]
