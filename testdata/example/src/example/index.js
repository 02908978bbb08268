'use strict'

module.exports = function sealed () {
  return 'sealed with waxseal'
}
