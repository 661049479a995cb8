/**
 * What the jsii build (Python) changed in the TypeScript API: enums instead of string-literal unions,
 * and full props types instead of Omit<> with the omitted field refused at run time.
 */
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EncryptionKey, PlatformCluster, RedisEngine, WebAclScope } from '../../lib/constructs';
import { testApp } from '../support/synth';

const stack = () => new Stack(testApp(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });

test('the enums carry the strings the unions had, so JavaScript callers passing strings are unaffected', () => {
  expect(Object.values(RedisEngine)).toEqual(['redis', 'valkey']);
  expect(Object.values(WebAclScope)).toEqual(['CLOUDFRONT', 'REGIONAL']);
});

describe('EncryptionKey.logGroup', () => {
  test('encrypts the group with this key, also when props name it', () => {
    const s = stack();
    const key = new EncryptionKey(s, 'Key', { description: 'test', cloudWatchLogs: true });
    expect(key.logGroup(s, 'A', {}).node.defaultChild).toBeDefined();
    expect(() => key.logGroup(s, 'B', { encryptionKey: key })).not.toThrow();
  });

  test('refuses another key, naming the prop', () => {
    const s = stack();
    const key = new EncryptionKey(s, 'Key', { description: 'test', cloudWatchLogs: true });
    expect(() => key.logGroup(s, 'Logs', { encryptionKey: new kms.Key(s, 'Other') }))
      .toThrow(/EncryptionKey.logGroup: props.encryptionKey must be left out \(the log group Logs is encrypted with this key\)/);
  });
});

test('PlatformCluster.addServiceAccount uses Pod Identity and refuses another identity type', () => {
  const s = stack();
  const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const platform = new PlatformCluster(s, 'Platform', { vpc, clusterName: 'demo' });
  expect(() => platform.addServiceAccount('Irsa', { name: 'irsa', identityType: eks.IdentityType.IRSA }))
    .toThrow(/PlatformCluster.addServiceAccount: options.identityType must be left out or POD_IDENTITY \(got IRSA\)/);
  expect(platform.addServiceAccount('Explicit', { name: 'explicit', identityType: eks.IdentityType.POD_IDENTITY })).toBeDefined();
  expect(platform.addServiceAccount('Default', { name: 'default-sa' })).toBeDefined();
});
