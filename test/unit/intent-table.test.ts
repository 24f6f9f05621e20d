/**
 * The intent table: what each sentence grants, exactly, with the words that caused each grant.
 * Scopes are written out here (not read from the catalog), so a change to the shipped catalog
 * that changes what an intent grants fails this test until the table says so too.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { deriveIntent, loadCatalog, type Catalog, type IntentResult } from '../../src/intent/index.js';

const OPENAI = ['net.outbound:api.openai.com:443', 'secrets.access:OPENAI_API_KEY@api.openai.com'];
const ANTHROPIC = ['net.outbound:api.anthropic.com:443', 'secrets.access:ANTHROPIC_API_KEY@api.anthropic.com'];
const GEMINI = ['net.outbound:generativelanguage.googleapis.com:443', 'secrets.access:GEMINI_API_KEY@generativelanguage.googleapis.com'];
const OPENROUTER = ['net.outbound:openrouter.ai:443', 'secrets.access:OPENROUTER_API_KEY@openrouter.ai'];
const GROQ = ['net.outbound:api.groq.com:443', 'secrets.access:GROQ_API_KEY@api.groq.com'];
const MISTRAL = ['net.outbound:api.mistral.ai:443', 'secrets.access:MISTRAL_API_KEY@api.mistral.ai'];
const DEEPSEEK = ['net.outbound:api.deepseek.com:443', 'secrets.access:DEEPSEEK_API_KEY@api.deepseek.com'];
const XAI = ['net.outbound:api.x.ai:443', 'secrets.access:XAI_API_KEY@api.x.ai'];
const OLLAMA = ['net.outbound:localhost:11434'];
const LM_STUDIO = ['net.outbound:localhost:1234'];
const SLACK = ['net.outbound:slack.com:443', 'net.outbound:wss-primary.slack.com:443', 'net.outbound:wss-backup.slack.com:443',
  'secrets.access:SLACK_BOT_TOKEN@slack.com', 'secrets.access:SLACK_APP_TOKEN@slack.com'];
const TELEGRAM = ['net.outbound:api.telegram.org:443', 'secrets.access:TELEGRAM_BOT_TOKEN@api.telegram.org'];
const DISCORD = ['net.outbound:discord.com:443', 'net.outbound:gateway.discord.gg:443', 'net.outbound:cdn.discordapp.com:443',
  'secrets.access:DISCORD_BOT_TOKEN@discord.com', 'secrets.access:DISCORD_BOT_TOKEN@gateway.discord.gg'];
const WHATSAPP = ['net.outbound:web.whatsapp.com:443', 'net.outbound:mmg.whatsapp.net:443'];
const SIGNAL = ['net.outbound:chat.signal.org:443', 'net.outbound:storage.signal.org:443', 'net.outbound:cdn.signal.org:443',
  'net.outbound:cdn2.signal.org:443'];
const TEAMS = ['net.outbound:login.microsoftonline.com:443', 'net.outbound:smba.trafficmanager.net:443',
  'net.outbound:api.botframework.com:443', 'secrets.access:MSTEAMS_APP_PASSWORD@login.microsoftonline.com'];
const GMAIL = ['net.outbound:gmail.googleapis.com:443', 'net.outbound:oauth2.googleapis.com:443',
  'secrets.access:GOOGLE_OAUTH_TOKEN@gmail.googleapis.com'];
const OUTLOOK = ['net.outbound:graph.microsoft.com:443', 'net.outbound:login.microsoftonline.com:443',
  'secrets.access:MS_GRAPH_TOKEN@graph.microsoft.com'];
const GCAL = ['net.outbound:www.googleapis.com:443', 'net.outbound:oauth2.googleapis.com:443',
  'secrets.access:GOOGLE_OAUTH_TOKEN@www.googleapis.com'];
const GDRIVE = GCAL;
const GSHEETS = ['net.outbound:sheets.googleapis.com:443', 'net.outbound:oauth2.googleapis.com:443',
  'secrets.access:GOOGLE_OAUTH_TOKEN@sheets.googleapis.com'];
const GITHUB = ['net.outbound:api.github.com:443', 'net.outbound:github.com:443', 'net.outbound:codeload.github.com:443',
  'secrets.access:GITHUB_TOKEN@api.github.com', 'secrets.access:GITHUB_TOKEN@github.com'];
const GITLAB = ['net.outbound:gitlab.com:443', 'secrets.access:GITLAB_TOKEN@gitlab.com'];
const NPM = ['net.outbound:registry.npmjs.org:443'];
const NPM_PUBLISH = ['net.outbound:registry.npmjs.org:443', 'secrets.access:NPM_TOKEN@registry.npmjs.org'];
const PYPI = ['net.outbound:pypi.org:443', 'net.outbound:files.pythonhosted.org:443'];
const NOTION = ['net.outbound:api.notion.com:443', 'secrets.access:NOTION_API_KEY@api.notion.com'];
const DROPBOX = ['net.outbound:api.dropboxapi.com:443', 'net.outbound:content.dropboxapi.com:443',
  'secrets.access:DROPBOX_ACCESS_TOKEN@api.dropboxapi.com', 'secrets.access:DROPBOX_ACCESS_TOKEN@content.dropboxapi.com'];
const TRELLO = ['net.outbound:api.trello.com:443', 'secrets.access:TRELLO_API_KEY@api.trello.com',
  'secrets.access:TRELLO_TOKEN@api.trello.com'];
const TODOIST = ['net.outbound:api.todoist.com:443', 'secrets.access:TODOIST_API_TOKEN@api.todoist.com'];
const LINEAR = ['net.outbound:api.linear.app:443', 'secrets.access:LINEAR_API_KEY@api.linear.app'];
const HN = ['net.outbound:hacker-news.firebaseio.com:443', 'net.outbound:news.ycombinator.com:443'];
const WEATHER = ['net.outbound:api.open-meteo.com:443', 'net.outbound:geocoding-api.open-meteo.com:443'];
const WIKIPEDIA = ['net.outbound:*.wikipedia.org:443'];
const SHELL = ['shell.exec'];

/** What the result says a capability still needs (the catalog's needs: or host: text). */
const NEEDS = {
  'local-model': 'the local model server: ollama or lm studio',
  email: "the mail service: gmail or outlook, or imap/smtp with the server's name (e.g. imap.fastmail.com)",
  google: 'the Google service: gemini, gmail, google calendar, google drive, google docs or google sheets',
  files: "the folder's path, e.g. ~/notes or /srv/data",
  smtp: "the SMTP server's name, e.g. smtp.fastmail.com",
};
const need = (id: keyof typeof NEEDS, phrase: string): string => `"${phrase}" needs ${NEEDS[id]}`;

/** Each scope of a capability, caused by one phrase. */
const by = (scopes: string[], because: string): [string, string][] => scopes.map((s) => [s, because]);

interface Row {
  text: string;
  grants: [string, string][];
  notUnderstood?: string[];
  negated?: [string, string][];
  ask?: true;
  features?: [string, string][];
  needs?: string[];
  model?: [string, string | null];
  corrections?: [string, string][];
  opts?: { model?: string };
}

const ROWS: Row[] = [
  // ---- plain: one capability ----
  { text: 'post to Slack', grants: by(SLACK, 'Slack') },
  { text: 'answer me on Telegram', grants: by(TELEGRAM, 'Telegram') },
  { text: 'run a Discord bot', grants: by(DISCORD, 'Discord') },
  { text: 'chat with me on WhatsApp', grants: by(WHATSAPP, 'WhatsApp') },
  { text: 'reply to Signal messages', grants: by(SIGNAL, 'Signal') },
  { text: 'answer questions in Microsoft Teams', grants: by(TEAMS, 'Microsoft Teams'), notUnderstood: ['questions'] },
  { text: 'triage my Gmail', grants: by(GMAIL, 'Gmail') },
  { text: 'Read and reply to my Outlook emails.', grants: by(OUTLOOK, 'Outlook') },
  { text: 'add events to google calendar', grants: by(GCAL, 'google calendar'), notUnderstood: ['events'] },
  { text: 'review pull requests', grants: by(GITHUB, 'pull requests') },
  { text: 'open merge requests on GitLab', grants: by(GITLAB, 'merge requests') },
  { text: 'install npm packages', grants: by(NPM, 'npm packages') },
  { text: 'publish to npm', grants: by(NPM_PUBLISH, 'publish to npm') },
  { text: 'install python packages with pip', grants: by(PYPI, 'python packages') },
  { text: 'keep my Notion pages up to date', grants: by(NOTION, 'Notion'), notUnderstood: ['pages', 'date'] },
  { text: 'organise files in google drive', grants: by(GDRIVE, 'google drive') },
  { text: 'back up my desktop to dropbox', grants: [...by(['files.read:~/Desktop'], 'desktop'), ...by(DROPBOX, 'dropbox')] },
  { text: 'update a google sheets budget', grants: by(GSHEETS, 'google sheets'), notUnderstood: ['budget'] },
  { text: 'manage my trello board and todoist tasks', grants: [...by(TRELLO, 'trello'), ...by(TODOIST, 'todoist')],
    notUnderstood: ['board', 'tasks'] },
  { text: 'track linear issues', grants: by(LINEAR, 'linear issues') },
  { text: 'what is the weather', grants: by(WEATHER, 'weather') },
  { text: 'look things up on Wikipedia', grants: by(WIKIPEDIA, 'Wikipedia'), ask: true, features: [['web-research', 'look things up']] },
  { text: 'run commands in the terminal', grants: by(SHELL, 'run commands') },
  { text: 'execute code', grants: by(SHELL, 'execute code') },
  { text: 'search the web', grants: [], ask: true, features: [['web-research', 'search the web']] },
  { text: 'summarise', grants: [], features: [['summarise', 'summarise']] },

  // ---- model providers ----
  { text: 'use claude', grants: by(ANTHROPIC, 'claude'), model: ['anthropic', 'claude'] },
  { text: 'use gpt-4o through openrouter', grants: [...by(OPENAI, 'gpt-4o'), ...by(OPENROUTER, 'openrouter')],
    model: ['openai', 'gpt-4o'] },
  { text: 'talk to Gemini', grants: by(GEMINI, 'Gemini'), model: ['google-gemini', 'Gemini'] },
  { text: 'use groq and deepseek', grants: [...by(GROQ, 'groq'), ...by(DEEPSEEK, 'deepseek')], model: ['groq', 'groq'] },
  { text: 'use Grok', grants: by(XAI, 'Grok'), model: ['xai', 'Grok'] },
  { text: 'a mistral-large agent', grants: by(MISTRAL, 'mistral-large'), model: ['mistral', 'mistral-large'] },
  { text: 'use a local model with ollama', grants: by(OLLAMA, 'ollama'), model: ['ollama', 'ollama'] },
  { text: 'run on LM Studio', grants: by(LM_STUDIO, 'LM Studio'), model: ['lm-studio', 'LM Studio'] },
  { text: 'use a local model', grants: [], needs: [need('local-model', 'local model')] },
  { text: 'post to Slack', opts: { model: 'openai' }, grants: [...by(OPENAI, '--model openai'), ...by(SLACK, 'Slack')],
    model: ['openai', null] },
  { text: 'use an LLM', grants: [] },

  // ---- several capabilities ----
  { text: 'read my RSS feeds, summarise them and post to Slack', grants: by(SLACK, 'Slack'), ask: true,
    features: [['rss', 'RSS feeds'], ['summarise', 'summarise']] },
  { text: 'use claude to summarise my gmail inbox every morning and send the digest to telegram',
    grants: [...by(ANTHROPIC, 'claude'), ...by(GMAIL, 'gmail'), ...by(TELEGRAM, 'telegram')],
    features: [['summarise', 'summarise'], ['schedule', 'every morning']], model: ['anthropic', 'claude'] },
  { text: 'I want an agent that reads Hacker News and posts the top stories to Telegram every evening',
    grants: [...by(HN, 'Hacker News'), ...by(TELEGRAM, 'Telegram')], notUnderstood: ['top', 'stories'],
    features: [['schedule', 'every evening']] },
  { text: 'check the weather every morning and tell me on whatsapp', grants: [...by(WEATHER, 'weather'), ...by(WHATSAPP, 'whatsapp')],
    features: [['schedule', 'every morning']] },
  { text: 'translate messages between Teams and Slack', grants: [...by(TEAMS, 'Teams'), ...by(SLACK, 'Slack')],
    notUnderstood: ['between'], features: [['translate', 'translate']] },
  { text: 'save attachments from gmail to ~/Downloads/mail', notUnderstood: ['attachments'],
    grants: [...by(GMAIL, 'gmail'), ['files.write:~/Downloads/mail', 'save attachments from gmail to ~/Downloads/mail']] },
  { text: 'summarise hacker news daily and publish to npm', grants: [...by(HN, 'hacker news'), ...by(NPM_PUBLISH, 'publish to npm')],
    features: [['summarise', 'summarise'], ['schedule', 'daily']] },
  { text: 'read my email over imap at imap.fastmail.com and reply via smtp',
    grants: by(['net.outbound:imap.fastmail.com:993', 'secrets.access:IMAP_PASSWORD@imap.fastmail.com'], 'imap at imap.fastmail.com'),
    needs: [need('smtp', 'smtp')] },
  { text: 'answer on Matrix at matrix.org', grants: by(['net.outbound:matrix.org:443', 'secrets.access:MATRIX_ACCESS_TOKEN@matrix.org'], 'Matrix at matrix.org') },
  { text: 'update jira tickets at acme.atlassian.net', notUnderstood: ['tickets'],
    grants: by(['net.outbound:acme.atlassian.net:443', 'secrets.access:JIRA_API_TOKEN@acme.atlassian.net'], 'jira tickets at acme.atlassian.net') },

  // ---- local files ----
  { text: 'read files in ~/notes and save summaries to ~/notes/out',
    grants: [['files.read:~/notes', '~/notes'], ['files.write:~/notes/out', 'save summaries to ~/notes/out']],
    features: [['summarise', 'summaries']] },
  { text: 'read files in /srv/data', grants: [['files.read:/srv/data', '/srv/data']] },
  { text: 'organise my downloads folder', grants: [['files.write:~/Downloads', 'organise my downloads folder']] },
  { text: 'look at my documents', grants: [['files.read:~/Documents', 'documents']] },
  { text: 'share photos folder with my team', grants: [['files.read:~/Pictures', 'photos folder']], notUnderstood: ['team'] },
  { text: 'read my notes folder', grants: [], needs: [need('files', 'notes folder')] },
  { text: 'summarise my obsidian vault in ~/vault', grants: [['files.read:~/vault', '~/vault']],
    features: [['summarise', 'summarise']] },
  { text: 'edit "/srv/my site/pages"', grants: [['files.write:/srv/my site/pages', 'edit "/srv/my site/pages']] },

  // ---- negations ----
  { text: 'watch github pull requests and post reviews to discord, never run shell commands',
    grants: [...by(GITHUB, 'github'), ...by(DISCORD, 'discord')],
    negated: [['shell', 'never run shell commands']] },
  { text: 'post to slack and discord without whatsapp', grants: [...by(SLACK, 'slack'), ...by(DISCORD, 'discord')],
    negated: [['whatsapp', 'without whatsapp']] },
  { text: 'do not use the internet; organise my downloads folder',
    grants: [['files.write:~/Downloads', 'organise my downloads folder']], negated: [['web-research', 'do not use the internet']] },
  { text: 'post to Slack. Never use Slack.', grants: [], negated: [['slack', 'Never use Slack']] },
  { text: "don't touch my email", grants: [], negated: [['email', "don't touch my email"]], notUnderstood: ['touch'] },
  { text: 'read ~/Documents/papers, never touch ~/Documents/private', grants: [['files.read:~/Documents/papers', '~/Documents/papers']],
    negated: [['files', 'never touch ~/Documents/private']], notUnderstood: ['touch'] },
  { text: 'summarise news but no web research', grants: [], features: [['summarise', 'summarise']],
    negated: [['web-research', 'no web']] },
  { text: 'use any model except openai', grants: [], negated: [['openai', 'except openai']], notUnderstood: ['model'] },
  { text: 'run python scripts, no network', grants: by(SHELL, 'python scripts'), negated: [['web-research', 'no network']] },

  // ---- other phrasings and morphology ----
  { text: 'Summarize my Telegram chats', grants: by(TELEGRAM, 'Telegram'),
    features: [['summarise', 'Summarize']] },
  { text: 'write summaries of slack threads', grants: by(SLACK, 'slack'), notUnderstood: ['threads'],
    features: [['summarise', 'summaries']] },
  { text: 'summarising e-mails from Outlook', grants: by(OUTLOOK, 'Outlook'), features: [['summarise', 'summarising']] },
  { text: 'scheduled digests to the Discord server', grants: by(DISCORD, 'Discord'), notUnderstood: ['server'],
    features: [['schedule', 'scheduled'], ['summarise', 'digests']] },
  { text: 'remind me about meetings in my google calendar', grants: by(GCAL, 'google calendar'),
    features: [['schedule', 'remind']] },
  { text: 'browse websites and collect articles', grants: [], ask: true, features: [['web-research', 'browse']],
    notUnderstood: ['articles'] },

  // ---- misspellings ----
  { text: 'sumarize my telegarm messages', grants: by(TELEGRAM, 'telegarm'),
    features: [['summarise', 'sumarize']], corrections: [['sumarize', 'summarise'], ['telegarm', 'telegram']] },
  { text: 'post to slak', grants: by(SLACK, 'slak'), corrections: [['slak', 'slack']] },
  { text: 'use gogle drive and notoin', grants: [...by(GDRIVE, 'gogle drive'), ...by(NOTION, 'notoin')],
    corrections: [['gogle', 'google'], ['notoin', 'notion']] },
  { text: 'watch my githbu', grants: by(GITHUB, 'githbu'), corrections: [['githbu', 'github']] },
  { text: 'discard old mail from the black box', grants: [], notUnderstood: ['discard', 'old', 'black', 'box'],
    needs: [need('email', 'mail')] },

  // ---- things the user must still say ----
  { text: 'check my email', grants: [], needs: [need('email', 'email')] },
  { text: 'read my google stuff', grants: [], needs: [need('google', 'google')] },
  { text: 'sync my calendar with outlook', grants: by(OUTLOOK, 'outlook') },

  // ---- nonsense and nothing ----
  { text: 'asdf qwer zxcv', grants: [], notUnderstood: ['asdf', 'qwer', 'zxcv'] },
  { text: '', grants: [] },
  { text: 'please, and then the', grants: [] },
  { text: 'make me a sandwich', grants: [], notUnderstood: ['make', 'sandwich'] },
  { text: 'fetch everything from example.com', grants: [], notUnderstood: ['fetch', 'example.com'] },
];

function project(r: IntentResult): Omit<Row, 'text' | 'opts'> {
  return {
    grants: r.grants.map((g) => [g.scope, g.because]),
    notUnderstood: r.notUnderstood,
    negated: r.negated.map((n) => [n.capability, n.phrase]),
    ...(r.networkMisses === 'ask' ? { ask: true as const } : {}),
    features: r.features.map((f) => [f.capability, f.phrase]),
    needs: r.needs,
    model: [r.model.provider ?? '', r.model.phrase],
    corrections: r.corrections.map((c) => [c.typed, c.readAs]),
  };
}

let catalog: Catalog;
before(async () => {
  catalog = await loadCatalog('/nonexistent-armorer-home');
});

describe('the intent table', () => {
  test('has at least 60 rows', () => assert.ok(ROWS.length >= 60, `${ROWS.length} rows`));
  for (const row of ROWS) {
    test(`derives exactly: ${JSON.stringify(row.text)}${row.opts?.model ? ` with --model ${row.opts.model}` : ''}`, () => {
      const expected: Omit<Row, 'text' | 'opts'> = {
        grants: row.grants,
        notUnderstood: row.notUnderstood ?? [],
        negated: row.negated ?? [],
        ...(row.ask ? { ask: true as const } : {}),
        features: row.features ?? [],
        needs: row.needs ?? [],
        model: row.model ?? ['', null],
        corrections: row.corrections ?? [],
      };
      assert.deepStrictEqual(project(deriveIntent(row.text, catalog, row.opts)), expected);
    });
  }
});
