"""WhatsApp in Portuguese, which Brazil and Portugal write differently: Android and iPhone exports in both
holding every marker the app writes (media omitted with and without caption, attachments present,
contact cards, deleted by others and by me, edited, polls, locations, live location, view-once, missed
calls, system lines) parse to the right kind, sender, text and attachments, and the language is "pt"."""
from __future__ import annotations

from pathlib import Path

from tests.whatsapp_phrase_chats import LRM, Expect, android_export, check, iphone_export, notice_without_marks

ANDROID_BRAZIL = [
    ("As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta e ficam somente entre você e "
     "os participantes desta conversa. Nem mesmo o WhatsApp pode ler ou ouvi-las.",
     Expect(None, "system", "As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta e ficam "
            "somente entre você e os participantes desta conversa. Nem mesmo o WhatsApp pode ler ou ouvi-las.")),
    ("Ana: Bom dia", Expect("Ana", "text", "Bom dia")),
    ("Ana: <Mídia oculta>", Expect("Ana", "media", "", (("<Mídia oculta>", False),))),
    ("Ana: <Arquivo de mídia oculto>\na ata de ontem",
     Expect("Ana", "media", "a ata de ontem", (("<Arquivo de mídia oculto>", False),))),
    (f"Bruno: {LRM}IMG-20240314-WA0001.jpg (arquivo anexado)\no plenário",
     Expect("Bruno", "media", "o plenário", (("IMG-20240314-WA0001.jpg", True),))),
    (f"Bruno: {LRM}João Silva.vcf (arquivo anexado)", Expect("Bruno", "contact", "", (("João Silva.vcf", True),))),
    ("Ana: Mensagem apagada", Expect("Ana", "deleted", "Mensagem apagada")),
    ("Bruno: Você apagou esta mensagem", Expect("Bruno", "deleted", "Você apagou esta mensagem")),
    ("Ana: Esta mensagem foi apagada pelo remetente.", Expect("Ana", "deleted", "Esta mensagem foi apagada pelo remetente.")),
    ("Ana: vou sim <Mensagem editada>", Expect("Ana", "text", "vou sim", edited=True)),
    ("Bruno: ENQUETE:\nQual dia?\nOPÇÃO: segunda (2 votos)\nOPÇÃO: terça (0 votos)",
     Expect("Bruno", "poll", "ENQUETE:\nQual dia?\nOPÇÃO: segunda (2 votos)\nOPÇÃO: terça (0 votos)")),
    ("Ana: localização: https://maps.google.com/?q=-23.5505,-46.6333",
     Expect("Ana", "location", "localização: https://maps.google.com/?q=-23.5505,-46.6333")),
    ("Ana: localização atual compartilhada", Expect("Ana", "location", "localização atual compartilhada")),
    ("Bruno: null", Expect("Bruno", "media", "", (("", False),))),  # a view-once photo
    ("Ana: Ligação de voz perdida", Expect("Ana", "call", "Ligação de voz perdida")),
    ("Bruno: Chamada de vídeo perdida", Expect("Bruno", "call", "Chamada de vídeo perdida")),
    ("Bruno adicionou Carla", Expect(None, "system", "Bruno adicionou Carla")),
]

ANDROID_PORTUGAL = [
    ("As mensagens e chamadas são encriptadas ponto a ponto. Ninguém fora desta conversa, nem mesmo o WhatsApp, "
     "pode ler ou ouvi-las.",
     Expect(None, "system", "As mensagens e chamadas são encriptadas ponto a ponto. Ninguém fora desta conversa, "
            "nem mesmo o WhatsApp, pode ler ou ouvi-las.")),
    ("Rui: <Ficheiro não revelado>", Expect("Rui", "media", "", (("<Ficheiro não revelado>", False),))),
    (f"Rui: {LRM}Ata.pdf (ficheiro anexado)", Expect("Rui", "media", "", (("Ata.pdf", False),))),
    ("Inês: Apagou esta mensagem", Expect("Inês", "deleted", "Apagou esta mensagem")),
    ("Inês: Esta mensagem foi apagada", Expect("Inês", "deleted", "Esta mensagem foi apagada")),
    ("Rui: Está a partilhar a sua localização", Expect("Rui", "location", "Está a partilhar a sua localização")),
    ("Inês: Chamada de voz perdida", Expect("Inês", "call", "Chamada de voz perdida")),
]

IPHONE_PORTUGAL = [
    (f"Raad: {LRM}As mensagens e chamadas são encriptadas ponto a ponto. Ninguém fora desta conversa, nem mesmo o "
     "WhatsApp, pode ler ou ouvi-las.",
     Expect(None, "system", "As mensagens e chamadas são encriptadas ponto a ponto. Ninguém fora desta conversa, "
            "nem mesmo o WhatsApp, pode ler ou ouvi-las.")),
    ("Inês: Bom dia", Expect("Inês", "text", "Bom dia")),
    (f"Inês: {LRM}imagem não revelada", Expect("Inês", "media", "", (("imagem não revelada", False),))),
    (f"Rui: {LRM}vídeo não revelado", Expect("Rui", "media", "", (("vídeo não revelado", False),))),
    (f"Inês: {LRM}ficheiro de áudio não revelado", Expect("Inês", "media", "", (("ficheiro de áudio não revelado", False),))),
    (f"Rui: {LRM}Contacto não revelado", Expect("Rui", "contact", "", (("Contacto não revelado", False),))),
    (f"Inês: {LRM}sticker não revelado", Expect("Inês", "media", "", (("sticker não revelado", False),))),
    (f"Rui: {LRM}GIF não revelada", Expect("Rui", "media", "", (("GIF não revelada", False),))),
    (f"Inês: Ata da reunião.pdf • 3 páginas {LRM}documento não revelado",
     Expect("Inês", "media", "Ata da reunião.pdf • 3 páginas", (("documento não revelado", False),))),
    (f"Rui: {LRM}imagem não revelada\na fachada", Expect("Rui", "media", "a fachada", (("imagem não revelada", False),))),
    (f"Rui: {LRM}<anexado: 00000012-PHOTO-2024-03-14-10-10-00.jpg>",
     Expect("Rui", "media", "", (("00000012-PHOTO-2024-03-14-10-10-00.jpg", True),))),
    (f"Inês: {LRM}<anexado: 00000013-João Silva.vcf>", Expect("Inês", "contact", "", (("00000013-João Silva.vcf", True),))),
    (f"Rui: {LRM}Esta mensagem foi apagada.", Expect("Rui", "deleted", "Esta mensagem foi apagada.")),
    (f"Inês: {LRM}Apagou esta mensagem.", Expect("Inês", "deleted", "Apagou esta mensagem.")),
    (f"Rui: Combinado {LRM}<Esta mensagem foi editada>", Expect("Rui", "text", "Combinado", edited=True)),
    ("Inês: Localização: https://maps.google.com/?q=38.7223,-9.1393",
     Expect("Inês", "location", "Localização: https://maps.google.com/?q=38.7223,-9.1393")),
    (f"Rui: {LRM}Chamada de voz perdida", Expect("Rui", "call", "Chamada de voz perdida")),
    ("Inês: SONDAGEM:\nQue dia?\nOPÇÃO: segunda (1 voto)", Expect("Inês", "poll", "SONDAGEM:\nQue dia?\nOPÇÃO: segunda (1 voto)")),
    (f"Raad: {LRM}O seu código de segurança partilhado com Rui mudou. Toque para saber mais.",
     Expect(None, "system", "O seu código de segurança partilhado com Rui mudou. Toque para saber mais.")),
]

IPHONE_BRAZIL = [
    ("Ana: Bom dia", Expect("Ana", "text", "Bom dia")),
    (f"Ana: {LRM}imagem ocultada", Expect("Ana", "media", "", (("imagem ocultada", False),))),
    (f"Bruno: {LRM}figurinha omitida", Expect("Bruno", "media", "", (("figurinha omitida", False),))),
    (f"Ana: {LRM}Cartão do contato omitido", Expect("Ana", "contact", "", (("Cartão do contato omitido", False),))),
    (f"Bruno: {LRM}Você apagou esta mensagem.", Expect("Bruno", "deleted", "Você apagou esta mensagem.")),
    (f"Ana: {LRM}Mensagem apagada", Expect("Ana", "deleted", "Mensagem apagada")),
    (f"Bruno: beleza {LRM}<Mensagem editada>", Expect("Bruno", "text", "beleza", edited=True)),
    (f"Ana: {LRM}Ligação de voz perdida", Expect("Ana", "call", "Ligação de voz perdida")),
    ("Bruno: ENQUETE:\nQual dia?\nOPÇÃO: segunda (1 voto)", Expect("Bruno", "poll", "ENQUETE:\nQual dia?\nOPÇÃO: segunda (1 voto)")),
]


def test_android_export_from_brazil(tmp_path: Path) -> None:
    export = android_export(tmp_path, ANDROID_BRAZIL, {"IMG-20240314-WA0001.jpg": b"\xff\xd8\xff", "João Silva.vcf": b"BEGIN:VCARD"})
    conversation = check(export, ANDROID_BRAZIL, "pt", "android")
    assert conversation.source.inferred["view_once"]["seqs"] == [14]


def test_android_export_from_portugal(tmp_path: Path) -> None:
    check(android_export(tmp_path, ANDROID_PORTUGAL, {}), ANDROID_PORTUGAL, "pt", "android")


def test_iphone_export_from_portugal(tmp_path: Path) -> None:
    export = iphone_export(tmp_path, IPHONE_PORTUGAL, {
        "00000012-PHOTO-2024-03-14-10-10-00.jpg": b"\xff\xd8\xff", "00000013-João Silva.vcf": b"BEGIN:VCARD"})
    check(export, IPHONE_PORTUGAL, "pt", "ios")


def test_iphone_export_from_brazil(tmp_path: Path) -> None:
    check(iphone_export(tmp_path, IPHONE_BRAZIL, {}), IPHONE_BRAZIL, "pt", "ios")


def test_iphone_encryption_notice_without_marks_is_a_system_line(tmp_path: Path) -> None:
    notice = "As mensagens e chamadas são encriptadas ponto a ponto. Ninguém fora desta conversa, nem mesmo o WhatsApp, pode ler ou ouvi-las."
    conversation = notice_without_marks(tmp_path, notice)
    assert [(m.sender, m.kind.value, m.text) for m in conversation.messages] == [
        (None, "system", notice), ("Elon", "text", "Hola")]
