"""The mediators' console in English and French: labels (through Gradio's i18n, see
ariane/web/strings.py) and the messages its handlers write (`t(key, lang)`).

French for mediators: "vous", "fiche" for a knowledge entry, "brouillon"/"approuvée", "alerte"
for an escalation, "votes négatifs" for dislikes (their webhook messages are "notifications").

Example:
    >>> t("deleted", "fr", id="stress-001-fr")
    'Fiche **stress-001-fr** supprimée.'
    >>> headers("knowledge", "fr")[:3]
    ['id', 'statut', 'catégorie']
"""

from __future__ import annotations

from ariane.i18n import LANGUAGES, lookup

CONSOLE = {  # component labels, help texts and choices (Gradio's i18n), keys start with "console_"
    "en": {
        "console_disabled": (
            "### Mediators' console is off\n"
            "Set the environment variable `ARIANE_MEDIATOR_PASSWORD` (on a Space: *Settings → Variables and "
            "secrets → New secret*) and restart Ariane to turn it on."
        ),
        "console_password": "Mediator password",
        "console_unlock": "Unlock",
        "console_lock": "Lock",
        "console_tab_dashboard": "Dashboard",
        "console_tab_dislikes": "Dislikes",
        "console_tab_knowledge": "Knowledge",
        "console_tab_escalations": "Escalations",
        "console_refresh": "Refresh",
        "console_conversation": "Conversation",
        "console_category": "Category",
        "console_all": "all",
        "console_draft": "draft",
        "console_approved": "approved",
        # Dashboard
        "console_dashboard_help": "Votes on Ariane's answers, the like rate over time and the latest dislike alerts.",
        "console_like_rate": "Like rate",
        "console_per_day": "per day",
        "console_per_hour": "per hour",
        "console_time_utc": "time (UTC)",
        "console_likes_per_vote": "likes / votes",
        # Dislikes
        "console_dislikes_help": (
            "Answers players disliked. Click a row to read it, write the correct answer, save it as a draft "
            "entry, then approve it: Ariane answers with it from the next question."
        ),
        "console_latest_dislikes": "Latest dislikes (click a row)",
        "console_vote_number": "Vote #",
        "console_question_as_asked": "Question (as players ask it)",
        "console_corrected_answer": "Corrected answer",
        "console_save_draft": "Save as draft entry",
        "console_draft_id": "Draft entry id",
        "console_approve": "Approve",
        # Knowledge
        "console_knowledge_help": (
            "The questions and answers Ariane knows; only approved entries are used. Click an entry to edit it. "
            "An entry's French counterpart has the same id followed by `-fr` (`stress-001` → `stress-001-fr`)."
        ),
        "console_search": "Search",
        "console_search_placeholder": "words in the id, question, paraphrases or answer",
        "console_status": "Status",
        "console_language": "Language",
        "console_entries": "Entries (click one to edit)",
        "console_entry_id": "Id (empty = new entry)",
        "console_question": "Question",
        "console_paraphrases": "Other ways to ask it (one per line)",
        "console_answer": "Answer",
        "console_source": "Source (organisation and page title)",
        "console_new_entry": "New entry",
        "console_save": "Save",
        "console_delete": "Delete",
        "console_spreadsheet": "#### Spreadsheet",
        "console_upload": "Import a CSV (columns: question, answer, category, …)",
        "console_download": "Download",
        "console_import_category": "Category of every row (if the file has no category column)",
        "console_check_csv": "Check the CSV",
        "console_import_csv": "Import the CSV",
        "console_export_csv": "Download all entries as CSV",
        # Escalations
        "console_escalations_help": (
            "Messages where a player may be in danger, recorded by the safety checks. Read each one, make sure "
            "someone talks to the player, then acknowledge it with your name."
        ),
        "console_open_only": "Only open escalations",
        "console_escalations_table": "Escalations (click one to read it)",
        "console_escalation_number": "Escalation #",
        "console_your_name": "Your name or initials",
        "console_acknowledge": "Acknowledge",
    },
    "fr": {
        "console_disabled": (
            "### La console des médiateurs est désactivée\n"
            "Définissez la variable d'environnement `ARIANE_MEDIATOR_PASSWORD` (sur un Space : *Settings → "
            "Variables and secrets → New secret*) puis redémarrez Ariane pour l'activer."
        ),
        "console_password": "Mot de passe des médiateurs",
        "console_unlock": "Déverrouiller",
        "console_lock": "Verrouiller",
        "console_tab_dashboard": "Tableau de bord",
        "console_tab_dislikes": "Votes négatifs",
        "console_tab_knowledge": "Fiches",
        "console_tab_escalations": "Alertes",
        "console_refresh": "Actualiser",
        "console_conversation": "Conversation",
        "console_category": "Catégorie",
        "console_all": "toutes",
        "console_draft": "brouillon",
        "console_approved": "approuvée",
        # Dashboard
        "console_dashboard_help": (
            "Les votes sur les réponses d'Ariane, le taux de votes positifs dans le temps et les dernières "
            "notifications de votes négatifs."
        ),
        "console_like_rate": "Taux de votes positifs",
        "console_per_day": "par jour",
        "console_per_hour": "par heure",
        "console_time_utc": "heure (UTC)",
        "console_likes_per_vote": "votes positifs / votes",
        # Dislikes
        "console_dislikes_help": (
            "Les réponses qui ont reçu un vote négatif. Cliquez sur une ligne pour la lire, écrivez la bonne "
            "réponse, enregistrez-la comme fiche brouillon, puis approuvez-la : Ariane s'en sert dès la "
            "question suivante."
        ),
        "console_latest_dislikes": "Derniers votes négatifs (cliquez sur une ligne)",
        "console_vote_number": "Vote n°",
        "console_question_as_asked": "Question (telle que les joueurs la posent)",
        "console_corrected_answer": "Réponse corrigée",
        "console_save_draft": "Enregistrer comme fiche brouillon",
        "console_draft_id": "Identifiant de la fiche brouillon",
        "console_approve": "Approuver",
        # Knowledge
        "console_knowledge_help": (
            "Les questions et réponses que connaît Ariane ; seules les fiches approuvées sont utilisées. Cliquez "
            "sur une fiche pour la modifier. La version française d'une fiche a le même identifiant suivi de "
            "`-fr` (`stress-001` → `stress-001-fr`)."
        ),
        "console_search": "Rechercher",
        "console_search_placeholder": "mots de l'identifiant, de la question, des reformulations ou de la réponse",
        "console_status": "Statut",
        "console_language": "Langue",
        "console_entries": "Fiches (cliquez sur une fiche pour la modifier)",
        "console_entry_id": "Identifiant (vide = nouvelle fiche)",
        "console_question": "Question",
        "console_paraphrases": "Autres façons de la poser (une par ligne)",
        "console_answer": "Réponse",
        "console_source": "Source (organisme et titre de la page)",
        "console_new_entry": "Nouvelle fiche",
        "console_save": "Enregistrer",
        "console_delete": "Supprimer",
        "console_spreadsheet": "#### Tableur",
        "console_upload": "Importer un CSV (colonnes : question, answer, category, …)",
        "console_download": "Télécharger",
        "console_import_category": "Catégorie de toutes les lignes (si le fichier n'a pas de colonne category)",
        "console_check_csv": "Vérifier le CSV",
        "console_import_csv": "Importer le CSV",
        "console_export_csv": "Télécharger toutes les fiches en CSV",
        # Escalations
        "console_escalations_help": (
            "Les messages d'un joueur qui est peut-être en danger, relevés par les contrôles de sécurité. Lisez "
            "chaque alerte, assurez-vous que quelqu'un parle au joueur, puis prenez-la en charge avec votre nom."
        ),
        "console_open_only": "Alertes ouvertes seulement",
        "console_escalations_table": "Alertes (cliquez sur une alerte pour la lire)",
        "console_escalation_number": "Alerte n°",
        "console_your_name": "Votre nom ou vos initiales",
        "console_acknowledge": "Prendre en charge",
    },
}

HEADERS = {  # column headers of the console's tables (a Dataframe's headers are not translated by Gradio)
    "en": {
        "dislikes": ["id", "when (UTC)", "mode", "sources", "comment", "text shared", "corrected as"],
        "knowledge": ["id", "status", "category", "question", "language", "updated"],
        "escalations": ["id", "when (UTC)", "category", "message", "session", "acknowledged"],
    },
    "fr": {
        "dislikes": ["id", "quand (UTC)", "mode", "sources", "commentaire", "texte partagé", "corrigé en"],
        "knowledge": ["id", "statut", "catégorie", "question", "langue", "mise à jour"],
        "escalations": ["id", "quand (UTC)", "catégorie", "message", "session", "prise en charge"],
    },
}

MESSAGES = {  # written by the console's handlers, in the request's language
    "en": {
        # lock
        "locked": "The console is locked: enter the mediators' password first.",
        "console_off": "The mediators' console is off: set ARIANE_MEDIATOR_PASSWORD and restart Ariane.",
        "wrong_password": "❌ Wrong password.",
        "unlocked": "Unlocked.",
        "now_locked": "Locked.",
        "yes": "yes",
        "no": "no",
        "none": "none",
        "status_draft": "draft",
        "status_approved": "approved",
        # Dashboard
        "counts": (
            "**Votes:** {votes} (👍 {up} · 👎 {down}) · **like rate:** {rate} · **sessions:** {sessions} · "
            "**with conversation text:** {shared}"
        ),
        "model_not_loaded": "**Model:** not loaded — {error}",
        "no_alerts": "No dislike alerts.",
        "alerts": "#### Alerts",
        "alert_sent": "sent",
        "alert_failed": "webhook failed",
        "alert_shown_here": "shown here only",
        # Dislikes
        "vote_gone": "This vote no longer exists (purged?). Refresh the list.",
        "vote_info": "**Vote #{id}** · mode `{mode}` · model `{model}` · sources: {sources} · comment: {comment}",
        "not_shared": "*The player did not share the conversation text: write the question from the sources or the comment.*",
        "not_saved": "The entry was not saved: {error}",
        "saved_draft": "Saved draft **{id}**. Approve it to let Ariane use it.",
        "save_first": "Save the corrected answer as a draft first.",
        "not_approved": "The entry was not approved: {error}",
        "approved": "**{id}** is approved: Ariane answers with it from the next question, and `python -m data export` includes it.",
        # Knowledge
        "entry_gone": "This entry no longer exists. Search again.",
        "saved_approved": "Saved **{id}**. Ariane uses it from the next question.",
        "saved_as_draft": "Saved **{id}**. It is a draft: approve it to let Ariane use it.",
        "open_first": "Open an entry first.",
        "delete_again": "Click **Delete** again to delete **{id}** for good.",
        "not_deleted": "The entry was not deleted: {error}",
        "deleted": "Deleted **{id}**.",
        "choose_file": "Choose a CSV file first.",
        "nothing_imported": "❌ **Nothing was imported.** {error}",
        "choose_category": " Choose a category above for a file without a category column.",
        "file_fine": "✅ The file is fine ({summary}). Press **Import the CSV** to write it.",
        "imported": "✅ Imported: {summary}.",
        "drafts_note": " New entries are drafts: approve them before Ariane uses them.",
        "would_import": "would add {added}, updated {updated}, unchanged {unchanged}",
        "import_summary": "added {added}, updated {updated}, unchanged {unchanged}",
        # Escalations
        "escalations_unavailable": "Escalations are not available in this build (ariane.safety.escalations is missing).",
        "open_count": "**Open:** {count}",
        "escalation_open": "open",
        "acknowledged_cell": "{at} by {by}",
        "escalation_gone": "This escalation no longer exists. Refresh the list.",
        "escalation_info": "**Escalation {id}** · {category} ({subject}) · {created} UTC · locale {locale}",
        "in_room": " · room {room}",
        "on_puzzle": " · puzzle {puzzle}",
        "acknowledged_info": "Acknowledged {at} by {by}.",
        "only_message": "*Only the escalated message is available (the server no longer holds the rest of this conversation).*",
        "open_escalation_first": "Open an escalation first (click a row).",
        "not_acknowledged": "The escalation was not acknowledged: {error}",
        "acknowledged": "Escalation {id} acknowledged by {by}.",
    },
    "fr": {
        # lock
        "locked": "La console est verrouillée : saisissez d'abord le mot de passe des médiateurs.",
        "console_off": "La console des médiateurs est désactivée : définissez ARIANE_MEDIATOR_PASSWORD et redémarrez Ariane.",
        "wrong_password": "❌ Mot de passe incorrect.",
        "unlocked": "Console déverrouillée.",
        "now_locked": "Console verrouillée.",
        "yes": "oui",
        "no": "non",
        "none": "aucune",
        "status_draft": "brouillon",
        "status_approved": "approuvée",
        # Dashboard
        "counts": (
            "**Votes :** {votes} (👍 {up} · 👎 {down}) · **taux de votes positifs :** {rate} · **sessions :** {sessions} · "
            "**avec le texte de la conversation :** {shared}"
        ),
        "model_not_loaded": "**Modèle :** non chargé — {error}",
        "no_alerts": "Aucune notification de votes négatifs.",
        "alerts": "#### Notifications de votes négatifs",
        "alert_sent": "envoyée",
        "alert_failed": "échec du webhook",
        "alert_shown_here": "affichée ici seulement",
        # Dislikes
        "vote_gone": "Ce vote n'existe plus (purgé ?). Actualisez la liste.",
        "vote_info": "**Vote n°{id}** · mode `{mode}` · modèle `{model}` · sources : {sources} · commentaire : {comment}",
        "not_shared": "*Le joueur n'a pas partagé le texte de la conversation : rédigez la question à partir des sources ou du commentaire.*",
        "not_saved": "La fiche n'a pas été enregistrée : {error}",
        "saved_draft": "Brouillon **{id}** enregistré. Approuvez-le pour qu'Ariane puisse s'en servir.",
        "save_first": "Enregistrez d'abord la réponse corrigée comme brouillon.",
        "not_approved": "La fiche n'a pas été approuvée : {error}",
        "approved": "**{id}** est approuvée : Ariane s'en sert dès la question suivante, et `python -m data export` l'inclut.",
        # Knowledge
        "entry_gone": "Cette fiche n'existe plus. Relancez la recherche.",
        "saved_approved": "Fiche **{id}** enregistrée. Ariane s'en sert dès la question suivante.",
        "saved_as_draft": "Fiche **{id}** enregistrée. C'est un brouillon : approuvez-la pour qu'Ariane puisse s'en servir.",
        "open_first": "Ouvrez d'abord une fiche.",
        "delete_again": "Cliquez de nouveau sur **Supprimer** pour supprimer définitivement **{id}**.",
        "not_deleted": "La fiche n'a pas été supprimée : {error}",
        "deleted": "Fiche **{id}** supprimée.",
        "choose_file": "Choisissez d'abord un fichier CSV.",
        "nothing_imported": "❌ **Rien n'a été importé.** {error}",
        "choose_category": " Choisissez une catégorie ci-dessus pour un fichier sans colonne category.",
        "file_fine": "✅ Le fichier est correct ({summary}). Appuyez sur **Importer le CSV** pour l'enregistrer.",
        "imported": "✅ Import terminé : {summary}.",
        "drafts_note": " Les nouvelles fiches sont des brouillons : approuvez-les avant qu'Ariane s'en serve.",
        "would_import": "{added} à ajouter, {updated} à mettre à jour, {unchanged} inchangée(s)",
        "import_summary": "{added} ajoutée(s), {updated} mise(s) à jour, {unchanged} inchangée(s)",
        # Escalations
        "escalations_unavailable": "Les alertes ne sont pas disponibles dans cette version (ariane.safety.escalations manque).",
        "open_count": "**Ouvertes :** {count}",
        "escalation_open": "ouverte",
        "acknowledged_cell": "{at} par {by}",
        "escalation_gone": "Cette alerte n'existe plus. Actualisez la liste.",
        "escalation_info": "**Alerte {id}** · {category} ({subject}) · {created} UTC · langue et pays {locale}",
        "in_room": " · salle {room}",
        "on_puzzle": " · énigme {puzzle}",
        "acknowledged_info": "Prise en charge le {at} par {by}.",
        "only_message": "*Seul le message qui a déclenché l'alerte est disponible (le serveur n'a plus le reste de cette conversation).*",
        "open_escalation_first": "Ouvrez d'abord une alerte (cliquez sur une ligne).",
        "not_acknowledged": "L'alerte n'a pas été prise en charge : {error}",
        "acknowledged": "Alerte {id} prise en charge par {by}.",
    },
}


def t(key: str, lang: str, **values) -> str:
    """A console message in `lang` (English when `lang` is not spoken)."""
    return lookup(MESSAGES, key, lang, **values)


def headers(table: str, lang: str) -> list[str]:
    """The column headers of one of the console's tables ("dislikes", "knowledge", "escalations")."""
    return list(HEADERS.get(lang, HEADERS[LANGUAGES[0]])[table])


def frame(table: str, rows: list[list], lang: str) -> dict:
    """What a handler returns to a console table: its rows under headers in `lang`."""
    return {"headers": headers(table, lang), "data": rows}
