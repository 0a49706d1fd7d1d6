// The regdsl extension: highlighting of .reg files (syntaxes/, contributed in package.json) and
// the language server, `regdsl lsp` over standard input and output, started with the program and
// arguments of the settings `regdsl.server.path` and `regdsl.server.args`, and started again when
// they change.
'use strict';

const path = require('path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

let client;

function serverOptions() {
  const settings = vscode.workspace.getConfiguration('regdsl');
  let command = settings.get('server.path') || 'regdsl';
  const args = settings.get('server.args') || ['lsp'];
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (folder && command.includes('/') && !path.isAbsolute(command)) {
    command = path.join(folder.uri.fsPath, command);
  }
  return { command, args };
}

async function start() {
  const server = serverOptions();
  client = new LanguageClient('regdsl', 'regdsl', server, {
    documentSelector: [
      { scheme: 'file', language: 'regdsl' },
      { scheme: 'untitled', language: 'regdsl' },
    ],
  });
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const shown = [server.command, ...server.args].join(' ');
    vscode.window.showErrorMessage(
      `regdsl: the language server (${shown}) did not start: ${error.message || error}. ` +
        'Install regdsl, or set regdsl.server.path.',
    );
  }
}

async function stop() {
  if (client) {
    const running = client;
    client = undefined;
    await running.stop();
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('regdsl.server')) {
        await stop();
        await start();
      }
    }),
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
