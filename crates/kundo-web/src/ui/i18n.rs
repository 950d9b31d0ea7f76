//! The UI's message catalogue: German (the default) and English, looked up with `t(lang, key)`.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "de" => Some(Lang::De),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::De => Lang::En,
            Lang::En => Lang::De,
        }
    }
}

/// `(key, German, English)`.
const MESSAGES: &[(&str, &str, &str)] = &[
    ("app.title", "Kundo", "Kundo"),
    ("lang.switch", "English", "Deutsch"),
    ("login.title", "Anmelden", "Log in"),
    ("login.username", "Benutzername", "Username"),
    ("login.password", "Passwort", "Password"),
    ("login.submit", "Anmelden", "Log in"),
    (
        "login.failed",
        "Benutzername oder Passwort ist falsch.",
        "Wrong username or password.",
    ),
    (
        "login.expired",
        "Das Formular ist abgelaufen. Bitte erneut versuchen.",
        "The form expired. Please try again.",
    ),
    ("logout", "Abmelden", "Log out"),
    ("nav.search", "Suche", "Search"),
    ("nav.new_customer", "Neuer Kunde", "New customer"),
    ("nav.duplicates", "Dubletten", "Duplicates"),
    ("nav.tasks", "Aufgaben", "Tasks"),
    ("nav.postal", "Postrückläufer", "Postal returns"),
    ("nav.runs", "Läufe", "Runs"),
    ("nav.segments", "Segmente", "Segments"),
    ("nav.dashboard", "Übersicht", "Dashboard"),
    ("nav.admin", "Verwaltung", "Admin"),
    ("err.forbidden", "Keine Berechtigung", "Not allowed"),
    (
        "err.forbidden.detail",
        "Ihre Rolle darf diese Seite nicht sehen.",
        "Your role may not see this page.",
    ),
    ("err.not_found", "Nicht gefunden", "Not found"),
    (
        "err.csrf",
        "Sicherheitsprüfung fehlgeschlagen",
        "Security check failed",
    ),
    (
        "err.csrf.detail",
        "Das Formular war veraltet. Bitte die Seite neu laden und erneut senden.",
        "The form was out of date. Please reload the page and send it again.",
    ),
    ("err.server", "Fehler", "Error"),
    (
        "err.fix_fields",
        "Bitte die markierten Felder korrigieren.",
        "Please fix the marked fields.",
    ),
    (
        "err.stale",
        "Der Kunde wurde inzwischen von jemand anderem geändert. Bitte die Seite neu laden und die Änderung erneut eingeben.",
        "Someone else changed this customer in the meantime. Please reload the page and enter your change again.",
    ),
    ("search.title", "Kundensuche", "Customer search"),
    (
        "search.label",
        "Name, Kundennummer, Karte, E-Mail, Telefon oder PLZ",
        "Name, customer number, card, email, phone or postcode",
    ),
    ("search.submit", "Suchen", "Search"),
    ("search.none", "Keine Treffer.", "No matches."),
    (
        "search.short",
        "Mindestens drei Zeichen eingeben.",
        "Type at least three characters.",
    ),
    ("col.number", "Nummer", "Number"),
    ("col.name", "Name", "Name"),
    ("col.address", "Adresse", "Address"),
    ("col.email", "E-Mail", "Email"),
    ("col.status", "Status", "Status"),
    ("col.score", "Ähnlichkeit", "Score"),
    ("col.reasons", "Gründe", "Reasons"),
    ("col.date", "Datum", "Date"),
    ("col.kind", "Art", "Kind"),
    ("col.points", "Punkte", "Points"),
    ("col.reason", "Grund", "Reason"),
    ("col.code", "Code", "Code"),
    ("col.value", "Wert", "Value"),
    ("col.valid_until", "Gültig bis", "Valid until"),
    ("col.title", "Titel", "Title"),
    ("col.team", "Team", "Team"),
    ("col.assignee", "Zuständig", "Assignee"),
    ("col.due", "Fällig", "Due"),
    ("col.customer", "Kunde", "Customer"),
    ("col.period", "Periode", "Period"),
    ("col.state", "Zustand", "State"),
    ("col.details", "Details", "Details"),
    ("col.channel", "Kanal", "Channel"),
    ("col.source", "Quelle", "Source"),
    ("col.actions", "Aktionen", "Actions"),
    ("f.salutation", "Anrede", "Salutation"),
    ("f.first_name", "Vorname", "First name"),
    ("f.last_name", "Nachname", "Last name"),
    ("f.company_name", "Firma", "Company"),
    ("f.birth_date", "Geburtsdatum", "Date of birth"),
    ("f.email", "E-Mail", "Email"),
    ("f.phone", "Telefon", "Phone"),
    ("f.phone_kind", "Telefonart", "Phone kind"),
    ("f.street", "Strasse", "Street"),
    ("f.house_number", "Hausnummer", "House number"),
    ("f.postcode", "PLZ", "Postcode"),
    ("f.city", "Ort", "City"),
    ("f.country", "Land", "Country"),
    (
        "f.preferred_channel",
        "Bevorzugter Kanal",
        "Preferred channel",
    ),
    ("f.none", "(keiner)", "(none)"),
    ("cust.title", "Kunde", "Customer"),
    ("cust.profile", "Profil", "Profile"),
    ("cust.edit", "Stammdaten bearbeiten", "Edit main fields"),
    ("cust.save", "Speichern", "Save"),
    ("cust.saved", "Gespeichert.", "Saved."),
    ("cust.addresses", "Adressen", "Addresses"),
    (
        "cust.address_history",
        "Frühere Adressen",
        "Earlier addresses",
    ),
    ("cust.postal_status", "Poststatus", "Postal status"),
    ("cust.cards", "Karten", "Cards"),
    ("cust.consents", "Einwilligungen", "Consents"),
    ("cust.attributes", "Weitere Merkmale", "Custom attributes"),
    ("cust.points", "Punkte", "Points"),
    ("cust.balance", "Punktestand", "Balance"),
    ("cust.vouchers", "Gutscheine", "Vouchers"),
    ("cust.figures", "Einkäufe", "Purchases"),
    ("cust.first_purchase", "Erster Einkauf", "First purchase"),
    ("cust.last_purchase", "Letzter Einkauf", "Last purchase"),
    ("cust.receipts_total", "Bons gesamt", "Receipts in total"),
    ("cust.revenue_total", "Umsatz gesamt", "Revenue in total"),
    ("cust.revenue_12m", "Umsatz 12 Monate", "Revenue 12 months"),
    (
        "cust.basket_12m",
        "Ø Bon 12 Monate",
        "Average basket 12 months",
    ),
    ("cust.online_share", "Online-Anteil", "Online share"),
    (
        "cust.favourite_store",
        "Lieblingsfiliale",
        "Favourite store",
    ),
    ("cust.tasks", "Offene Aufgaben", "Open tasks"),
    ("cust.timeline", "Kontakthistorie", "Contact history"),
    ("cust.timeline.filter", "Art filtern", "Filter by kind"),
    ("cust.timeline.all", "alle", "all"),
    ("cust.timeline.apply", "Filtern", "Filter"),
    ("cust.timeline.more", "Ältere Einträge", "Older entries"),
    (
        "cust.timeline.empty",
        "Noch keine Einträge.",
        "No entries yet.",
    ),
    ("cust.log", "Kontakt erfassen", "Log a contact"),
    ("cust.log.kind", "Art des Kontakts", "Kind of contact"),
    ("cust.log.subject", "Betreff", "Subject"),
    ("cust.log.body", "Notiz", "Note"),
    ("cust.log.submit", "Erfassen", "Log"),
    ("cust.none", "keine", "none"),
    ("new.title", "Neuer Kunde", "New customer"),
    ("new.submit", "Anlegen", "Create"),
    (
        "dup.warning",
        "Mögliche Dubletten gefunden",
        "Likely duplicates found",
    ),
    (
        "dup.warning.detail",
        "Diese Kunden sehen aus wie dieselbe Person. Ist es dieselbe Person, öffnen Sie den bestehenden Kunden (oder führen Sie zusammen); sonst legen Sie den Kunden trotzdem an.",
        "These customers look like the same person. If it is the same person, open the existing customer (or merge); otherwise create the customer anyway.",
    ),
    ("dup.open", "Dieselbe Person → öffnen", "Same person → open"),
    ("dup.force", "Trotzdem anlegen", "Create anyway"),
    ("dups.title", "Dubletten prüfen", "Review duplicates"),
    ("dups.empty", "Keine offenen Paare.", "No open pairs."),
    ("dups.review", "Vergleichen", "Compare"),
    ("dups.dismiss", "Keine Dublette", "Not a duplicate"),
    ("merge.title", "Zusammenführen", "Merge"),
    (
        "merge.survivor",
        "Bleibt (Überlebender)",
        "Survivor (stays)",
    ),
    (
        "merge.duplicate",
        "Dublette (wird aufgelöst)",
        "Duplicate (goes away)",
    ),
    ("merge.field", "Feld", "Field"),
    ("merge.swap", "Seiten tauschen", "Swap sides"),
    ("merge.preview", "Vorschau", "Preview"),
    (
        "merge.preview.title",
        "Ergebnis nach dem Zusammenführen",
        "Result after the merge",
    ),
    (
        "merge.confirm",
        "Zusammenführen bestätigen",
        "Confirm merge",
    ),
    ("tasks.title", "Aufgaben", "Tasks"),
    ("tasks.filter", "Filtern", "Filter"),
    ("tasks.any", "alle", "any"),
    ("tasks.empty", "Keine Aufgaben.", "No tasks."),
    ("task.status", "Status", "Status"),
    ("task.change", "Status ändern", "Change status"),
    ("task.comments", "Kommentare", "Comments"),
    ("task.comment", "Kommentar", "Comment"),
    ("task.comment.submit", "Kommentieren", "Add comment"),
    ("task.description", "Beschreibung", "Description"),
    (
        "postal.title",
        "Postrückläufer einlesen",
        "Import postal returns",
    ),
    ("postal.file", "CSV-Datei", "CSV file"),
    ("postal.text", "oder CSV einfügen", "or paste CSV"),
    (
        "postal.skip",
        "Fehlerhafte Zeilen überspringen",
        "Skip bad lines",
    ),
    ("postal.submit", "Einlesen", "Import"),
    ("postal.report", "Ergebnis", "Report"),
    ("postal.rows", "Zeilen", "Rows"),
    ("postal.applied", "Übernommen", "Applied"),
    ("postal.rejected", "Abgelehnt", "Rejected"),
    (
        "postal.aborted",
        "Nichts übernommen (fehlerhafte Zeilen).",
        "Nothing applied (bad lines).",
    ),
    ("postal.tasks", "Aufgaben erstellt", "Tasks created"),
    ("postal.unmatched", "Nicht zugeordnet", "Unmatched"),
    ("postal.errors", "Fehler", "Errors"),
    ("postal.line", "Zeile", "Line"),
    ("postal.column", "Spalte", "Column"),
    ("runs.title", "Läufe", "Runs"),
    ("runs.bonus", "Bonuslauf starten", "Start a bonus run"),
    ("runs.period", "Periode (JJJJ-MM)", "Period (YYYY-MM)"),
    (
        "runs.birthday",
        "Geburtstagslauf starten",
        "Start a birthday run",
    ),
    (
        "runs.date",
        "Stichtag (JJJJ-MM-TT)",
        "Run date (YYYY-MM-DD)",
    ),
    (
        "runs.birthday_hint",
        "Gutscheine für Geburtstage in 21 Tagen, an Kunden mit CHF 500 Umsatz in 12 Monaten; einmal pro Jahr und Kunde.",
        "Vouchers for birthdays in 21 days, to customers with CHF 500 revenue in 12 months; once a year per customer.",
    ),
    ("runs.start", "Starten", "Start"),
    ("runs.started", "Lauf abgeschlossen", "Run finished"),
    ("runs.empty", "Noch keine Läufe.", "No runs yet."),
    (
        "runs.failed_hint",
        "Erneut starten setzt den Lauf dort fort, wo er stehen blieb.",
        "Starting it again continues where it stopped.",
    ),
    (
        "runs.periods_hint",
        "Der laufende oder der eben abgeschlossene Monat: der Lauf wandelt die heutigen Punktestände um. Gutscheine gelten ab heute.",
        "The current month or the one that just ended: the run converts today's balances. Vouchers are valid from today.",
    ),
    ("runs.lettershop", "Lettershop-CSV", "Lettershop CSV"),
    ("runs.vouchers", "Gutscheine", "Vouchers"),
    ("runs.letters", "Briefe", "Letters"),
    ("runs.converted", "Punkte umgewandelt", "Points converted"),
    ("seg.title", "Segmente", "Segments"),
    ("seg.new", "Neues Segment", "New segment"),
    ("seg.empty", "Noch keine Segmente.", "No segments yet."),
    ("seg.name", "Name", "Name"),
    ("seg.kind", "Art", "Kind"),
    ("seg.dynamic", "dynamisch", "dynamic"),
    ("seg.static", "statisch (Liste)", "static (list)"),
    ("seg.definition", "Definition (JSON)", "Definition (JSON)"),
    ("seg.builder", "Bedingungen", "Conditions"),
    ("seg.add_condition", "+ Bedingung", "+ Condition"),
    ("seg.add_and", "+ UND-Gruppe", "+ AND group"),
    ("seg.add_or", "+ ODER-Gruppe", "+ OR group"),
    ("seg.count", "Mitglieder", "Members"),
    ("seg.edit", "Segment bearbeiten", "Edit segment"),
    ("seg.back", "Zurück zu den Segmenten", "Back to segments"),
    ("seg.export_csv", "Mitglieder als CSV", "Members as CSV"),
    (
        "seg.not",
        "NICHT (Gruppe verneinen)",
        "NOT (negate the group)",
    ),
    (
        "seg.save_dynamic",
        "Als dynamisches Segment speichern",
        "Save as dynamic segment",
    ),
    (
        "seg.save_static",
        "Als statische Liste speichern",
        "Save as static list",
    ),
    (
        "seg.kinds",
        "Ein dynamisches Segment wird bei jeder Verwendung neu ausgewertet; eine statische Liste hält die Mitglieder von heute fest (Momentaufnahme).",
        "A dynamic segment is evaluated anew each time it is used; a static list keeps today's members (a snapshot).",
    ),
    ("seg.snapshot", "Momentaufnahme", "Snapshot"),
    ("seg.take_snapshot", "Jetzt festhalten", "Take snapshot"),
    ("seg.export", "CSV", "CSV"),
    ("seg.delete", "Löschen", "Delete"),
    (
        "seg.not_deleted",
        "Das Segment wurde nicht gelöscht:",
        "The segment was not deleted:",
    ),
    ("seg.saved", "Segment gespeichert.", "Segment saved."),
    ("dash.title", "Übersicht", "Dashboard"),
    ("admin.title", "Verwaltung", "Administration"),
    ("admin.users", "Benutzer und Rollen", "Users and roles"),
    ("admin.role", "Rolle", "Role"),
    ("admin.new_user", "Neuer Benutzer", "New user"),
    ("admin.create", "Anlegen", "Create"),
    ("admin.keys", "API-Schlüssel", "API keys"),
    ("admin.key_name", "Name des Systems", "System name"),
    ("admin.scopes", "Berechtigungen", "Scopes"),
    ("admin.new_key", "Neuer Schlüssel", "New key"),
    ("admin.revoke", "Widerrufen", "Revoke"),
    ("admin.revoked", "widerrufen", "revoked"),
    (
        "admin.key_once",
        "Der neue Schlüssel wird nur jetzt angezeigt. Kopieren Sie ihn in das System, das ihn braucht.",
        "The new key is shown only now. Copy it into the system that needs it.",
    ),
    ("admin.audit", "Protokoll", "Audit log"),
    ("admin.actor", "Wer", "Who"),
    ("admin.action", "Aktion", "Action"),
    ("admin.delete", "Löschen", "Delete"),
    ("cust.cases", "Fälle", "Cases"),
    ("cust.case_subject", "Betreff", "Subject"),
    ("cust.case_closed", "Geschlossen", "Closed"),
    (
        "cust.new_task",
        "Neue Aufgabe zu diesem Kunden",
        "New task about this customer",
    ),
    ("cust.create_task", "Aufgabe anlegen", "Create task"),
    ("task.kind", "Art der Aufgabe", "Kind of task"),
    ("task.title_field", "Titel", "Title"),
    ("task.due", "Fällig am", "Due on"),
    ("err.date", "Datum als JJJJ-MM-TT", "a date as YYYY-MM-DD"),
    ("rules.title", "Punkteregeln", "Points rules"),
    (
        "rules.default",
        "Noch keine Version: es gelten die Standardregeln (1 Punkt pro CHF 1.00).",
        "No version yet: the default rules apply (1 point per CHF 1.00).",
    ),
    ("rules.valid_from", "Gültig ab", "Valid from"),
    ("rules.rules", "Regeln", "Rules"),
    ("rules.new", "Neue Version", "New version"),
    ("rules.save", "Version speichern", "Save version"),
    (
        "rules.minor_units",
        "Rappen pro Punkt",
        "Minor units (cents) per point",
    ),
    (
        "rules.multipliers",
        "Multiplikatoren je Kategorie (Kategorie=Prozent; …)",
        "Multipliers per category (category=percent; …)",
    ),
    (
        "rules.excluded",
        "Ausgeschlossene Kategorien",
        "Excluded categories",
    ),
    ("rules.promotions", "Aktionen", "Promotions"),
    (
        "rules.promotions_json",
        "Aktionen (JSON)",
        "Promotions (JSON)",
    ),
    ("rules.per_point", "Rp. pro Punkt", "minor units per point"),
    (
        "rules.hint",
        "Eine neue Version gilt ab dem gewählten Tag (00:00 UTC); ältere Belege behalten ihre Regeln. Kategorien durch Kommas trennen; Aktionen wie in der API: [{\"name\": …, \"valid_from\": …, \"valid_until\": …, \"multiplier_percent\": 200}].",
        "A new version applies from the chosen day (00:00 UTC); older receipts keep their rules. Separate categories by commas; promotions as in the API: [{\"name\": …, \"valid_from\": …, \"valid_until\": …, \"multiplier_percent\": 200}].",
    ),
    ("attr.title", "Eigene Attribute", "Custom attributes"),
    (
        "attr.empty",
        "Noch keine eigenen Attribute.",
        "No custom attributes yet.",
    ),
    ("attr.name", "Schlüssel (a-z, 0-9, _)", "Key (a-z, 0-9, _)"),
    ("attr.label", "Bezeichnung", "Label"),
    ("attr.type", "Typ", "Type"),
    (
        "attr.allowed",
        "Erlaubte Werte (bei enum, durch Kommas getrennt)",
        "Allowed values (for enum, separated by commas)",
    ),
    ("attr.required", "Pflichtfeld", "Required"),
    ("attr.new", "Neues Attribut", "New attribute"),
    ("hook.title", "Webhooks", "Webhooks"),
    ("hook.empty", "Noch keine Webhooks.", "No webhooks yet."),
    ("hook.url", "URL (http://…)", "URL (http://…)"),
    (
        "hook.events",
        "Ereignisse (z. B. voucher.issued customer.updated, * für alle)",
        "Events (e.g. voucher.issued customer.updated, * for all)",
    ),
    ("hook.failures", "Fehlversuche", "Failures"),
    ("hook.next", "nächster Versuch", "next attempt"),
    ("hook.active", "aktiv", "active"),
    ("hook.inactive", "gelöscht", "deleted"),
    ("hook.new", "Neuer Webhook", "New webhook"),
    ("hook.log", "Zustellprotokoll", "Delivery log"),
    (
        "hook.back",
        "Zurück zur Verwaltung",
        "Back to administration",
    ),
    (
        "hook.no_deliveries",
        "Noch keine Zustellversuche.",
        "No delivery attempts yet.",
    ),
    ("hook.event", "Ereignis", "Event"),
    ("hook.attempt", "Versuch", "Attempt"),
    ("hook.status_code", "HTTP-Status", "HTTP status"),
    ("hook.delivered", "Zugestellt", "Delivered"),
    (
        "hook.secret_once",
        "Das Geheimnis zum Prüfen der Signaturen wird nur jetzt angezeigt. Hinterlegen Sie es beim Empfänger.",
        "The secret to check the signatures is shown only now. Store it with the receiver.",
    ),
    (
        "dash.new_customers",
        "Neue Kunden pro Monat",
        "New customers per month",
    ),
    ("dash.month", "Monat", "Month"),
    ("dash.table", "Zahlen", "Numbers"),
    (
        "dash.active",
        "Aktive Kunden pro Monat",
        "Active customers per month",
    ),
    (
        "dash.lost",
        "Verlorene Kunden pro Monat",
        "Lost customers per month",
    ),
    ("dash.points_earned", "Punkte gesammelt", "Points earned"),
    (
        "dash.points_converted",
        "Punkte umgewandelt",
        "Points converted",
    ),
    (
        "dash.vouchers_issued",
        "Gutscheine ausgegeben",
        "Vouchers issued",
    ),
    (
        "dash.vouchers_redeemed",
        "Gutscheine eingelöst",
        "Vouchers redeemed",
    ),
    (
        "dash.vouchers_expired",
        "Gutscheine verfallen",
        "Vouchers expired",
    ),
    (
        "dash.rfm",
        "RFM-Raster (Kunden je Recency × Frequency)",
        "RFM grid (customers per recency × frequency)",
    ),
    (
        "dash.rfm.none",
        "Noch keine Bewertungen: der Bewertungslauf (RFM/CLV) hat noch keine Kunden bewertet.",
        "No scores yet: the scoring job (RFM/CLV) has not scored any customers.",
    ),
    (
        "dash.definitions",
        "Aktiv: Einkauf im Monat. Verloren: letzter Einkauf genau 12 Monate vor dem Monat. Monate in UTC.",
        "Active: purchased in the month. Lost: last purchase exactly 12 months before the month. Months in UTC.",
    ),
    ("dash.count", "Anzahl", "Count"),
    ("nav.campaigns", "Kampagnen", "Campaigns"),
    ("camp.title", "Kampagnen", "Campaigns"),
    ("camp.one", "Kampagne", "Campaign"),
    ("camp.empty", "Noch keine Kampagnen.", "No campaigns yet."),
    ("camp.new", "Neue Kampagne", "New campaign"),
    ("camp.create", "Kampagne anlegen", "Create campaign"),
    ("camp.name", "Name", "Name"),
    ("camp.segment", "Segment", "Segment"),
    ("camp.state", "Status", "State"),
    ("camp.members", "Mitglieder", "Members"),
    ("camp.issued", "Gutscheine ausgegeben", "Vouchers issued"),
    ("camp.redeemed", "Eingelöst", "Redeemed"),
    ("camp.value_type", "Art des Werts", "Value type"),
    ("camp.percent", "Prozent", "Percent"),
    ("camp.amount", "Betrag (CHF)", "Amount (CHF)"),
    (
        "camp.value",
        "Wert (Prozent oder CHF)",
        "Value (percent or CHF)",
    ),
    (
        "camp.min_order",
        "Mindestbestellwert (CHF)",
        "Minimum order (CHF)",
    ),
    ("camp.validity_days", "Gültigkeit (Tage)", "Validity (days)"),
    ("camp.voucher_channels", "Einlösbar", "Redeemable"),
    ("camp.vc.both", "Filiale und online", "Store and online"),
    ("camp.vc.store", "nur Filiale", "Store only"),
    ("camp.vc.online", "nur online", "Online only"),
    ("camp.channels", "Kontaktkanäle", "Contact channels"),
    ("camp.email", "E-Mail", "Email"),
    ("camp.letter", "Brief", "Letter"),
    (
        "camp.control_share",
        "Kontrollgruppe (%)",
        "Control group (%)",
    ),
    ("camp.seed", "Seed (optional)", "Seed (optional)"),
    (
        "camp.hint",
        "Die Kontrollgruppe erhält nichts; derselbe Seed zieht dieselbe Gruppe.",
        "The control group receives nothing; the same seed draws the same group.",
    ),
    (
        "camp.err.number",
        "Bitte eine Zahl mit höchstens zwei Nachkommastellen eingeben.",
        "Enter a number with at most two decimal places.",
    ),
    (
        "camp.err.whole",
        "Bitte eine ganze Zahl eingeben.",
        "Enter a whole number.",
    ),
    (
        "camp.err.segment",
        "Bitte ein Segment wählen.",
        "Choose a segment.",
    ),
    ("camp.back", "← Alle Kampagnen", "← All campaigns"),
    ("camp.settings", "Einstellungen", "Settings"),
    ("camp.started", "Gestartet", "Started"),
    (
        "camp.reach",
        "Ziel / Kontrolle / nicht erreichbar",
        "Target / control / unreachable",
    ),
    ("camp.unreachable", "nicht erreichbar", "unreachable"),
    ("camp.contacts", "Kontakte", "Contacts"),
    ("camp.start", "Kampagne starten", "Start campaign"),
    ("camp.lettershop", "Lettershop-CSV", "Lettershop CSV"),
    ("camp.email_csv", "E-Mail-Liste (CSV)", "Email list (CSV)"),
    ("camp.results", "Ergebnisse", "Results"),
    (
        "camp.not_started",
        "Noch nicht gestartet.",
        "Not started yet.",
    ),
    ("camp.redemption_rate", "Einlösequote", "Redemption rate"),
    (
        "camp.redemption_revenue",
        "Umsatz der einlösenden Belege",
        "Revenue of redeeming receipts",
    ),
    (
        "camp.groups",
        "Zielgruppe und Kontrollgruppe",
        "Target and control group",
    ),
    ("camp.target", "Zielgruppe", "Target"),
    ("camp.control", "Kontrollgruppe", "Control"),
    ("camp.buyers", "Käufer", "Buyers"),
    ("camp.purchase_rate", "Kaufquote", "Purchase rate"),
    ("camp.revenue", "Nettoumsatz", "Net revenue"),
    (
        "camp.revenue_per_member",
        "Umsatz pro Mitglied",
        "Revenue per member",
    ),
    (
        "camp.rate_uplift",
        "Uplift Kaufquote",
        "Purchase rate uplift",
    ),
    (
        "camp.revenue_uplift",
        "Uplift Umsatz pro Mitglied",
        "Revenue per member uplift",
    ),
    (
        "camp.ci_note",
        "Uplift = Zielgruppe minus Kontrollgruppe, in eckigen Klammern das 95-%-Konfidenzintervall; pp = Prozentpunkte.",
        "Uplift = target minus control, the 95 % confidence interval in brackets; pp = percentage points.",
    ),
    ("camp.by_rfm", "Nach RFM beim Start", "By RFM at the start"),
    (
        "camp.by_orders",
        "Nach Belegen der 12 Monate vor dem Start",
        "By receipts in the 12 months before the start",
    ),
    (
        "camp.by_revenue",
        "Nach Umsatz der 12 Monate vor dem Start (CHF)",
        "By revenue in the 12 months before the start (CHF)",
    ),
    (
        "camp.chart.redemptions",
        "Einlösungen pro Tag",
        "Redemptions per day",
    ),
    ("camp.chart.purchases", "Käufe pro Tag", "Purchases per day"),
    ("camp.day", "Tag", "Day"),
    (
        "camp.no_days",
        "Noch keine Einlösungen oder Käufe.",
        "No redemptions or purchases yet.",
    ),
];

/// Shown for a key that the catalogue lacks (the test below keeps that from happening).
pub const MISSING: &str = "[?]";

/// The text of `key` in `lang`.
pub fn t(lang: Lang, key: &str) -> &'static str {
    match MESSAGES.iter().find(|(k, _, _)| *k == key) {
        Some((_, de, en)) => match lang {
            Lang::De => de,
            Lang::En => en,
        },
        None => MISSING,
    }
}

pub fn has_key(key: &str) -> bool {
    MESSAGES.iter().any(|(k, _, _)| *k == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_exists_in_both_languages_once() {
        let mut seen = std::collections::HashSet::new();
        for (k, de, en) in MESSAGES {
            assert!(seen.insert(*k), "key {k} twice");
            assert!(!de.trim().is_empty(), "{k}: no German text");
            assert!(!en.trim().is_empty(), "{k}: no English text");
        }
        assert_eq!(t(Lang::De, "login.title"), "Anmelden");
        assert_eq!(t(Lang::En, "login.title"), "Log in");
        assert_eq!(t(Lang::En, "no.such.key"), MISSING);
    }

    /// Every `t("…")` in a template and every `"….…"` key literal in the UI code names a
    /// catalogue entry.
    #[test]
    fn every_key_used_in_templates_is_in_the_catalogue() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut used = 0;
        for entry in std::fs::read_dir(&dir).expect("templates dir") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("template");
            for part in text.split("t(\"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                assert!(has_key(key), "{}: unknown key {key}", path.display());
                used += 1;
            }
        }
        assert!(used > 50, "only {used} keys found in templates");
    }
}
