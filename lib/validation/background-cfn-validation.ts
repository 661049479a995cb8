import { MessageChannel, receiveMessageOnPort, Worker } from 'worker_threads';
import { CloudFormationValidatePlugin, IPolicyValidationContext, PolicyValidationPluginReport } from 'aws-cdk-lib';

/**
 * Runs in a worker thread: builds aws-cdk-lib's CloudFormation Validate engine (a WASM module
 * with every resource schema, ~2 s and ~300 MiB) right away, then validates the templates posted
 * to it with the very same plugin code, and answers on the port.
 */
const WORKER = `
const { workerData } = require('worker_threads');
const { CloudFormationValidatePlugin } = require(workerData.cdkLib);
const plugin = new CloudFormationValidatePlugin();
const flag = new Int32Array(workerData.flag);
// A set that holds every type: the engine built now serves any template (the plugin rebuilds it only for types it lacks).
const everyType = { has: () => true, [Symbol.iterator]: function* () {} };
try { plugin.initializeEngine(everyType); } catch (e) { /* validate() below builds it again and reports */ }
workerData.port.on('message', (context) => {
  let answer;
  try { answer = { report: plugin.validate(context) }; } catch (e) { answer = { error: String((e && e.stack) || e) }; }
  workerData.port.postMessage(answer);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
  workerData.port.close();
});
`;

/**
 * The built-in CloudFormation validation of every synth (`@aws-cdk/core:validateAgainstDefaultRules`:
 * findings fail synth), same rules and same report, but its engine starts in a worker thread
 * when this is created, so it is built on the second core while the app builds its construct tree
 * and the rule packs run, instead of after them. Create it first thing in the app, register it
 * (`Validations.of(app).addPlugins`) last. Falls back to validating in-thread if the worker fails.
 */
export class BackgroundCloudFormationValidation extends CloudFormationValidatePlugin {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly channel = new MessageChannel();
  private readonly worker?: Worker;
  private started = false;

  /** The instance of this process (an app creates one), for the pack that starts it early. */
  static current?: BackgroundCloudFormationValidation;

  constructor() {
    super();
    try {
      this.worker = new Worker(WORKER, {
        eval: true,
        workerData: { cdkLib: require.resolve('aws-cdk-lib'), flag: this.flag.buffer, port: this.channel.port2 },
        transferList: [this.channel.port2],
      });
      this.worker.unref();
      this.worker.on('error', () => undefined);
      BackgroundCloudFormationValidation.current = this;
    } catch {
      this.worker = undefined;
    }
  }

  /** Hands the templates to the worker now; `validate` collects the report. */
  start(context: Pick<IPolicyValidationContext, 'stackTemplates' | 'templatePaths'> & Partial<IPolicyValidationContext>): void {
    if (!this.worker || this.started || !context.stackTemplates) return;
    const { stackTemplates, templatePaths, accountId, region } = context;
    this.channel.port1.postMessage({ stackTemplates, templatePaths, accountId, region });
    this.started = true;
  }

  override validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    if (!this.worker) return super.validate(context);
    this.start(context);
    // Synth is synchronous: block until the worker answers (10 minutes at most).
    Atomics.wait(this.flag, 0, 0, 600_000);
    const answer = receiveMessageOnPort(this.channel.port1)?.message as { report?: PolicyValidationPluginReport; error?: string } | undefined;
    void this.worker.terminate();
    if (answer?.report) return answer.report;
    return super.validate(context);
  }
}
