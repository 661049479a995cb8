import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from eks_microservices_platform import MysqlDatabase, RedisCluster, RedisEngine

app = cdk.App()
stack = cdk.Stack(app, "Data", env=cdk.Environment(region="eu-west-1"))
# Usually your existing VPC (ec2.Vpc.from_lookup); the data stores go to its isolated subnets by default.
vpc = ec2.Vpc(
    stack,
    "Vpc",
    max_azs=2,
    subnet_configuration=[
        ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC),
        ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
        ec2.SubnetConfiguration(name="isolated", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
    ],
)
apps = ec2.SecurityGroup(stack, "Apps", vpc=vpc)

redis = RedisCluster(stack, "Sessions", vpc=vpc, allow_from=[apps], engine=RedisEngine.VALKEY, shards=2)
database = MysqlDatabase(stack, "Orders", vpc=vpc, allow_from=[apps], multi_az=False, database_name="orders")
# Every resource is a public field: redis.replication_group, database.instance, database.secret_arn, ...
jobs = ec2.SecurityGroup(stack, "Jobs", vpc=vpc)
redis.allow_from(jobs)
database.allow_from(jobs)
app.synth()
