"""The texts WhatsApp itself writes into a chat export, per phone language (issue 4, "WhatsApp ... in at
least Dutch, English, German, French, Spanish, Italian, Portuguese and Turkish").

Data only. The source of truth is WhatsApp's own string tables (iOS `Localizable.strings`, Android
`strings.xml`: keys such as `export_media_omitted`, `email_file_attached`, `revoked_msg_incoming`,
`revoked_msg_outgoing`, `email_location_message`), as collected in ../shared/corpus/SOURCES.md and in
the test data of other parsers (whats_json, whatsapp-chat-parser, chat-miner), checked against the
corpus exports. Structural rules do most of the work (an iPhone attachment file name always starts with
eight digits; an Android system line has no "Name: "); these phrases name the rest and tell the
phone's language. Matching is on text with invisible direction marks removed, case-insensitive.

Where the Spanish, Italian, Portuguese and Turkish entries come from (the comments on those entries use
these tags; an entry without a tag is not confirmed by any source found and stays as a best reading):
- [ios-strings]: starkdmi/whats_json `lib/src/patterns.dart`, every language of WhatsApp iOS 22.24.81
  `Localizable.strings` for the key named there (attached `zQ+5d`, image `n*sq0`, video `I4|vp`, audio
  `a86Wu`, sticker `2K_mB`, GIF `~.KLq`, contact card `Sk+0p`, document `StaLC`, security code changed
  `G)W)p`/`7<vSf`).
- [android-strings]: the same file, from WhatsApp Android 2.8.4278 `strings.xml` (`export_media_omitted`,
  `email_file_attached`, `email_location_message`, `email_live_location_message`).
- [strings]: the same file, in a list it combines from both tables (deleted `qBly]`/`revoked_msg_incoming`,
  you deleted `GHe7G`/`revoked_msg_outgoing`, missed calls `A),w/`/`missed_voice_call` and
  "PnA`x"/`video_missed_call`, the encryption notice `_i3PG`/`settings_security_info`), so which
  platform writes it is not known.
- [export]: real iPhone exports in starkdmi/whats_json `test/data/languages/` (spanish_ios.txt,
  italian_ios.txt, portugal_ios.txt; Portugal's Portuguese).
- [peers]: the text as written in two or more other parsers' tables or test chats (Brazilian Portuguese
  and Turkish Android exports, edited markers); [peer]: one such parser only.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Phrases:
    """What WhatsApp writes in one language. Every entry is literal text (not a regular expression)."""

    media_omitted: tuple[str, ...] = ()  # Android: the whole body, "<Media omitted>"
    file_attached: tuple[str, ...] = ()  # Android: "NAME (file attached)", the words in brackets
    attached: tuple[str, ...] = ()  # iPhone: "<attached: 00000012-NAME>", the word before the colon
    omitted: dict[str, tuple[str, ...]] = field(default_factory=dict)  # iPhone: "image omitted" by media kind
    deleted: tuple[str, ...] = ()  # "This message was deleted", "You deleted this message"
    edited: tuple[str, ...] = ()  # "<This message was edited>" after an edited body
    location: tuple[str, ...] = ()  # "location: https://maps.google.com/?q=..."
    live_location: tuple[str, ...] = ()  # "live location shared"
    calls: tuple[str, ...] = ()  # "Missed voice call", ...
    poll: tuple[str, ...] = ()  # "POLL:" on the first line of a poll
    view_once: tuple[str, ...] = ()  # bodies written for view-once media
    system: tuple[str, ...] = ()  # distinctive parts of system lines (encryption notice, group events)
    encryption: tuple[str, ...] = ()  # how the end-to-end encryption notice starts: a system line even unmarked


PHRASES: dict[str, Phrases] = {
    "en": Phrases(
        media_omitted=("<Media omitted>",
                       "<Video note omitted>", "<Sticker omitted>", "<Audio omitted>"),  # [peers] (newer Android)
        file_attached=("file attached",),
        attached=("attached",),
        omitted={
            "image": ("image omitted",), "video": ("video omitted",), "audio": ("audio omitted",),
            "sticker": ("sticker omitted",), "gif": ("GIF omitted",), "document": ("document omitted",),
            "contact": ("Contact card omitted",),
        },
        deleted=("This message was deleted", "You deleted this message"),
        edited=("<This message was edited>",),
        location=("location", "Location"),
        live_location=("live location shared", "Live location shared"),
        calls=("Missed voice call", "Missed video call", "Voice call", "Video call", "Missed group voice call",
               "Missed group video call"),
        poll=("POLL:",),
        view_once=("<View once voice message omitted>",  # [peers]
                   "<View once photo omitted>", "<View once message omitted>",  # [peer] each
                   "View once message"),
        system=("Messages and calls are end-to-end encrypted", "Messages to this group are now secured",
                "created group", "created this group", "joined using this group's invite link",
                "changed the subject from", "changed the subject to", "changed this group's icon",
                "changed the group description", "changed their phone number", "changed to +",
                "Your security code with", "security code changed", "You're now an admin",
                "You're no longer an admin", "turned on disappearing messages",
                "turned off disappearing messages", "This chat is with a business account",
                "deleted this group's icon", "changed this group's settings"),
        encryption=("Messages and calls are end-to-end encrypted",),  # [ios-strings]
    ),
    "nl": Phrases(
        media_omitted=("<Media weggelaten>",),
        file_attached=("bestand bijgevoegd",),
        attached=("bijgevoegd",),
        omitted={
            "image": ("afbeelding weggelaten", "foto weggelaten"), "video": ("video weggelaten",),
            "audio": ("audio weggelaten",), "sticker": ("sticker weggelaten",), "gif": ("GIF weggelaten",),
            "document": ("document weggelaten",), "contact": ("Visitekaartje weggelaten", "contactkaart weggelaten"),
        },
        deleted=("Dit bericht is verwijderd", "U hebt dit bericht verwijderd", "Je hebt dit bericht verwijderd"),
        edited=("<Dit bericht is bewerkt>",),
        location=("locatie", "Locatie"),
        live_location=("live locatie gedeeld", "Live-locatie gedeeld"),
        calls=("Gemiste spraakoproep", "Gemiste video-oproep", "Gemiste videooproep", "Gemist spraakgesprek",
               "Gemist videogesprek", "Spraakoproep", "Video-oproep"),
        poll=("PEILING:",),
        system=("Berichten en oproepen worden end-to-end versleuteld", "Berichten en gesprekken worden end-to-end",
                "Berichten die naar deze groep", "heeft deze groep aangemaakt", "hebt deze groep aangemaakt",
                "heeft groep", "via de uitnodigingslink", "beveiligingscode", "telefoonnummer gewijzigd",
                "is nu beheerder", "bent nu beheerder", "verdwijnende berichten", "zelf-verwijderende berichten",
                "heeft de groepsnaam", "heeft het onderwerp", "hebt het onderwerp", "groepsafbeelding",
                "groepsbeschrijving", "Deze chat is met een zakelijk account"),
        encryption=("Berichten en oproepen worden end-to-end versleuteld",
                    "Berichten en gesprekken worden end-to-end versleuteld"),  # [ios-strings]
    ),
    "de": Phrases(
        media_omitted=("<Medien ausgeschlossen>", "<Medien weggelassen>"),
        file_attached=("Datei angehängt",),
        attached=("Anhang", "angehängt"),
        omitted={
            "image": ("Bild weggelassen",), "video": ("Video weggelassen",), "audio": ("Audio weggelassen",),
            "sticker": ("Sticker weggelassen",), "gif": ("GIF weggelassen",), "document": ("Dokument weggelassen",),
            "contact": ("Kontaktkarte ausgelassen",),
        },
        deleted=("Diese Nachricht wurde gelöscht", "Du hast diese Nachricht gelöscht"),
        edited=("<Diese Nachricht wurde bearbeitet>",),
        location=("Standort",),
        live_location=("Live-Standort geteilt", "Live-Standort wird geteilt"),  # second: [android-strings]
        calls=("Verpasster Sprachanruf", "Verpasster Videoanruf", "Sprachanruf", "Videoanruf"),
        poll=("UMFRAGE:",),
        system=("Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt", "hat die Gruppe", "hast die Gruppe",
                "Sicherheitsnummer", "hat den Betreff", "hat den Gruppennamen", "hat das Gruppenbild",
                "ist jetzt Admin", "bist jetzt Admin", "selbstlöschende Nachrichten", "Einladungslink",
                "hat die Gruppenbeschreibung", "Telefonnummer"),
        encryption=("Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt",),  # [ios-strings]
    ),
    "fr": Phrases(
        media_omitted=("<Médias omis>", "<Fichier omis>", "<Média omis>"),
        file_attached=("fichier joint",),
        attached=("pièce jointe",),
        omitted={
            "image": ("image absente", "image omise"), "video": ("vidéo absente", "vidéo omise"),
            "audio": ("audio omis",), "sticker": ("sticker omis",), "gif": ("GIF retiré", "GIF omis"),
            "document": ("document manquant", "document omis"), "contact": ("Fiche contact manquante",),
        },
        deleted=("Ce message a été supprimé", "Vous avez supprimé ce message"),
        edited=("<Ce message a été modifié>",),
        location=("localisation", "position", "Position"),
        live_location=("position en direct partagée", "Localisation en direct partagée"),  # second: [android-strings]
        calls=("Appel vocal manqué", "Appel vidéo manqué", "Appel vocal", "Appel vidéo"),
        poll=("SONDAGE :", "SONDAGE:"),
        system=("Les messages et les appels sont chiffrés de bout en bout", "a créé le groupe", "avez créé le groupe",
                "code de sécurité", "a modifié le sujet", "a changé le sujet", "a changé le nom du groupe",
                "a modifié l'icône", "est maintenant admin", "êtes maintenant admin", "messages éphémères",
                "lien d'invitation", "a changé de numéro"),
        encryption=("Les messages et les appels sont chiffrés de bout en bout",),  # [ios-strings]
    ),
    "es": Phrases(
        media_omitted=("<Multimedia omitido>",  # [peers]
                       "<Archivo omitido>"),  # [android-strings]
        file_attached=("archivo adjunto",  # [peers]
                       "archivo adjuntado"),  # [android-strings]
        attached=("adjunto",),  # [ios-strings]
        omitted={  # [ios-strings]; image, video, audio, contact card, sticker, document, GIF also [export]
            "image": ("imagen omitida",), "video": ("video omitido", "vídeo omitido"), "audio": ("audio omitido",),
            "sticker": ("sticker omitido",), "gif": ("GIF omitido",), "document": ("documento omitido",),
            "contact": ("Tarjeta de contacto omitida",),
        },
        deleted=("Se eliminó este mensaje",  # [strings] [export]
                 "Este mensaje fue eliminado",  # [strings]
                 "Eliminaste este mensaje"),  # [strings] [export]
        edited=("<Se editó este mensaje.>",  # [peers]
                "<Se editó este mensaje>", "<Este mensaje fue editado>"),  # [peer]
        location=("ubicación", "Ubicación"),  # [android-strings] [export]
        live_location=("ubicación en tiempo real compartida",),  # [android-strings]
        calls=("Llamada perdida",  # [strings]
               "Llamada de voz perdida", "Videollamada perdida",  # [strings]
               "Llamada de voz", "Videollamada"),
        poll=("ENCUESTA:",),
        system=("Los mensajes y las llamadas están cifrados de extremo a extremo",  # [strings] [export]
                "están protegidos con cifrado de extremo a extremo",  # older notice, same collected list
                "creó el grupo", "creaste el grupo",
                "código de seguridad",  # [ios-strings]
                "cambió el asunto", "cambió el nombre del grupo", "cambió el ícono",
                "cambió la descripción", "ahora es admin", "Ahora eres admin", "mensajes temporales",
                "enlace de invitación", "cambió su número"),
        encryption=("Los mensajes y las llamadas están cifrados de extremo a extremo",),  # [strings] [export]
    ),
    "it": Phrases(
        media_omitted=("<Media omessi>",  # [peers]
                       "<Media omesso>"),  # [android-strings]
        file_attached=("file allegato",),  # [android-strings]
        attached=("allegato",),  # [ios-strings] [peer]
        omitted={  # [ios-strings]; all but GIF's second form also [export]
            "image": ("immagine omessa",), "video": ("video omesso",), "audio": ("audio omesso",),
            "sticker": ("sticker non incluso", "sticker omesso"), "gif": ("GIF esclusa", "GIF omessa"),
            "document": ("documento omesso",), "contact": ("Scheda contatto omessa",),
        },
        deleted=("Questo messaggio è stato eliminato",  # [strings] [export]
                 "Hai eliminato questo messaggio"),  # [strings] [export]
        edited=("<Questo messaggio è stato modificato>",),  # [peers]
        location=("posizione", "Posizione"),  # [android-strings] [export]
        live_location=("posizione attuale condivisa",  # [android-strings]
                       "posizione in tempo reale condivisa"),
        calls=("Chiamata vocale persa", "Videochiamata persa",  # [strings]
               "Chiamata vocale", "Videochiamata"),
        poll=("SONDAGGIO:",),
        system=("I messaggi e le chiamate sono crittografati end-to-end",  # [strings] [export] [peer]
                "protetti con la crittografia end-to-end",  # older notice, same collected list
                "ha creato il gruppo", "hai creato il gruppo",
                "codice di sicurezza",  # [ios-strings] [export]
                "ha cambiato l'oggetto", "ha modificato l'oggetto", "ha cambiato il nome",
                "ha cambiato l'immagine", "è ora amministratore", "Ora sei amministratore", "messaggi effimeri",
                "link d'invito", "ha cambiato numero"),
        encryption=("I messaggi e le chiamate sono crittografati end-to-end",),  # [strings] [export]
    ),
    "pt": Phrases(  # Brazil (BR) and Portugal (PT) write different words
        media_omitted=("<Mídia oculta>",  # BR [peers]
                       "<Arquivo de mídia oculto>",  # BR [peers]
                       "<Mídia omitida>",  # BR [android-strings]
                       "<Ficheiro não revelado>",  # PT [android-strings]
                       "<Multimédia omitida>", "<Multimédia omitido>"),  # [peer] (second form)
        file_attached=("arquivo anexado",  # BR [android-strings] [peers]
                       "ficheiro anexado"),  # PT [android-strings]
        attached=("anexado", "anexo"),  # [ios-strings]
        omitted={  # [ios-strings]: PT "não revelado" forms also [export]; BR "ocultado"/"omitido" forms
            "image": ("imagem ocultada", "imagem não revelada", "imagem omitida"),
            "video": ("vídeo omitido", "vídeo não revelado", "vídeo ocultado"),
            "audio": ("áudio ocultado", "ficheiro de áudio não revelado", "áudio omitido"),
            "sticker": ("figurinha omitida", "sticker não revelado", "sticker omitido"),
            "gif": ("GIF omitido", "GIF não revelada"),
            "document": ("documento omitido", "documento não revelado"),
            "contact": ("Cartão do contato omitido", "Contacto não revelado"),
        },
        deleted=("Esta mensagem foi apagada",  # [strings] [export]
                 "Esta mensagem foi apagada pelo remetente",  # [strings]
                 "Mensagem apagada",  # BR [strings] [peers]
                 "Você apagou esta mensagem",  # BR [strings] [peers]
                 "Apagou esta mensagem"),  # PT [strings] [export]
        edited=("<Esta mensagem foi editada>",  # [peers]
                "<Mensagem editada>"),  # BR [peers]
        location=("localização", "Localização"),  # [android-strings] [export]
        live_location=("localização atual compartilhada",  # BR [android-strings]
                       "Está a partilhar a sua localização",  # PT [android-strings]
                       "localização em tempo real compartilhada", "localização em tempo real partilhada"),
        calls=("Chamada de voz perdida", "Videochamada perdida",  # [strings]
               "Chamada de vídeo perdida",  # [strings]
               "Ligação de voz perdida",  # BR [peer]
               "Ligação de vídeo perdida", "Chamada de voz", "Chamada de vídeo"),
        poll=("ENQUETE:", "SONDAGEM:"),
        system=("As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta",  # BR [strings]
                "As mensagens e chamadas são encriptadas ponto a ponto",  # PT [strings] [export]
                "criou o grupo", "criou este grupo",
                "código de segurança",  # [ios-strings]
                "mudou o assunto", "alterou o assunto", "mudou o nome do grupo",
                "alterou o nome do grupo", "mudou a imagem", "agora é admin", "Agora você é admin",
                "mensagens temporárias", "link de convite", "mudou de número"),
        encryption=("As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta",  # BR
                    "As mensagens e chamadas são encriptadas ponto a ponto"),  # PT [strings] [export]
    ),
    "tr": Phrases(
        media_omitted=("<Medya dahil edilmedi>",  # [peers]
                       "<Medya atlanmış>",  # [android-strings]
                       "<Medya çıkarıldı>", "<Medya atlandı>"),  # [peer] each
        file_attached=("dosya ekli",),  # [android-strings] [peers]
        attached=("eklendi",),  # [ios-strings]
        omitted={  # [ios-strings] [peers]
            "image": ("görüntü dahil edilmedi",), "video": ("video dahil edilmedi",), "audio": ("ses dahil edilmedi",),
            "sticker": ("Çıkartma dahil edilmedi",), "gif": ("GIF dahil edilmedi",),
            "document": ("belge dahil edilmedi",), "contact": ("Kişi kartı dahil edilmedi",),
        },
        deleted=("Bu mesaj silindi",  # [strings] [peers]
                 "Bu mesajı sildiniz",  # [strings] [peers]
                 "Bu mesajı sildin"),
        edited=("<Bu mesaj düzenlendi>",),  # [peers]
        location=("konum", "Konum"),  # [android-strings] [peers]
        live_location=("Mevcut konum paylaşıldı",  # [android-strings]
                       "canlı konum paylaşıldı"),
        calls=("Cevapsız sesli arama", "Cevapsız görüntülü arama",  # [strings]
               "Sesli arama", "Görüntülü arama"),
        poll=("ANKET:",),  # [peer]
        system=("Mesajlar ve aramalar uçtan uca şifrelidir",  # [strings] [peers]
                "uçtan uca şifreleme ile korunmaktadır",  # older notice, same collected list
                "grubunu oluşturdu", "grubu oluşturdu",
                "güvenlik kodu",  # [ios-strings]
                "konuyu", "grup adını", "grup simgesini", "artık yönetici",
                "süreli mesajlar", "davet bağlantısı", "telefon numarasını"),
        encryption=("Mesajlar ve aramalar uçtan uca şifrelidir",),  # [strings]
    ),
    "ru": Phrases(
        media_omitted=("<Без медиафайлов>", "<Файл пропущен>"),
        file_attached=("файл добавлен",),
        attached=("прикреплено",),
        omitted={
            "image": ("изображение отсутствует",), "video": ("видео отсутствует",),
            "audio": ("аудиофайл отсутствует",), "sticker": ("стикер не добавлен",), "gif": ("GIF отсутствует",),
            "document": ("документ отсутствует",), "contact": ("Карточка контакта отсутствует",),
        },
        deleted=("Данное сообщение удалено", "Это сообщение удалено", "Вы удалили данное сообщение",
                 "Вы удалили это сообщение"),
        edited=("<Сообщение изменено>",),
        location=("местоположение", "Местоположение"),
        calls=("Пропущенный аудиозвонок", "Пропущенный видеозвонок"),
        system=("Сообщения и звонки защищены сквозным шифрованием", "код безопасности", "создал(-а) группу"),
        encryption=("Сообщения и звонки защищены сквозным шифрованием",),  # [ios-strings]
    ),
    "ar": Phrases(
        media_omitted=("<تم استبعاد الوسائط>",),
        file_attached=("الملف مرفق",),
        attached=("المُرفق", "مرفق"),
        omitted={
            "image": ("لم يتم إدراج الصورة",), "video": ("لم يتم إدراج الفيديوهات",),
            "audio": ("لم يتم إدراج المقاطع الصوتية",), "sticker": ("تم حذف الملصقات",),
            "gif": ("لم يتم إدراج صورة GIF",), "document": ("لم يتم إدراج المستند",),
            "contact": ("لم يتم إدراج بطاقة جهة اتصال", "لم يتم إدراج بطاقة جهة الاتصال"),
        },
        deleted=("تم حذف هذه الرسالة", "أنت حذفت هذه الرسالة", "لقد حذفت هذه الرسالة"),
        location=("موقع", "الموقع"),
        calls=("مكالمة صوتية فائتة", "مكالمة فيديو فائتة"),
        system=("الرسائل والمكالمات مشفرة تمامًا بين الطرفين", "تغيّر رمز الأمان", "رمز الأمان"),
        encryption=("الرسائل والمكالمات مشفرة تمامًا بين الطرفين",),  # [ios-strings]
    ),
}

# Words some phones write between the date and the time ("18.3.2022 klo 14.56").
DATE_TIME_WORDS = ("klo", "kl.", "kl", "um", "à", "alle", "às", "a las", "в", "o")

# 12-hour clock markers, lower-cased and without dots or spaces, by meaning. Markers written before the
# time (Korean, Chinese, Japanese) are in the same table.
AM_MARKERS = ("am", "a", "vorm", "ص", "πμ", "午前", "上午", "오전", "sa", "fm", "de", "ö", "öö", "ჩ")
PM_MARKERS = ("pm", "p", "nachm", "م", "μμ", "午後", "下午", "오후", "ch", "em", "du", "ös", "ös", "შ")

# Japanese eras: letter (as iOS writes it) → the Gregorian year before the era's year 1.
JAPANESE_ERAS = {"R": 2018, "H": 1988, "S": 1925, "令和": 2018, "平成": 1988}
BUDDHIST_OFFSET = 543
